//! Levels per diagnostic code and per behaviour kind, as `-D/-W/-A` set them (cargo-deny's
//! levels): a behaviour's kind, when set, wins over its outcome's code.

use std::collections::BTreeMap;

use crate::model::{Code, Kind, Level, LevelName};

/// The levels in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels {
    codes: BTreeMap<Code, Level>,
    kinds: BTreeMap<Kind, Level>,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            codes: Code::ALL.iter().map(|c| (*c, c.default_level())).collect(),
            kinds: BTreeMap::new(),
        }
    }
}

impl Levels {
    pub fn set(&mut self, name: LevelName, level: Level) {
        match name {
            LevelName::Code(c) => {
                self.codes.insert(c, level);
            }
            LevelName::Kind(k) => {
                self.kinds.insert(k, level);
            }
        }
    }

    pub fn code(&self, c: Code) -> Level {
        self.codes.get(&c).copied().unwrap_or(c.default_level())
    }

    /// The level of something not allowed: its kind's if set, else its code's.
    pub fn of(&self, code: Code, kind: Option<Kind>) -> Level {
        kind.and_then(|k| self.kinds.get(&k).copied())
            .unwrap_or_else(|| self.code(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_win_over_codes() {
        let mut l = Levels::default();
        assert_eq!(l.code(Code::Dormant), Level::Warn);
        l.set(LevelName::Kind(Kind::FsRead), Level::Allow);
        assert_eq!(l.of(Code::Violation, Some(Kind::FsRead)), Level::Allow);
        assert_eq!(l.of(Code::Violation, Some(Kind::FsWrite)), Level::Deny);
        l.set(LevelName::Code(Code::Violation), Level::Warn);
        assert_eq!(l.of(Code::Violation, None), Level::Warn);
    }
}
