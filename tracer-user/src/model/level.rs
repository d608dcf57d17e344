//! How much a verdict's outcomes matter: levels (cargo-deny's allow/warn/deny), the diagnostic
//! codes a verdict reports with their default levels, and the names `-D/-W/-A` accept.

use super::{Kind, UnknownName, names::named_enum};

/// How much an outcome matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

named_enum!(Level, "a level" {
    Allow => "allow",
    Warn => "warn",
    Deny => "deny",
});

/// What a verdict can report that is not allowed: each with a name (`-D violation`), a
/// description and a default level. SARIF's rules table is made from this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Observed, not allowed.
    Violation,
    /// Observed, not allowed, and no static finding explains it.
    Unexpected,
    /// A static finding of build-time code not observed in this run.
    Dormant,
    /// An allow entry of the project that matched nothing.
    UnusedRule,
    /// The trace may be missing behaviour.
    Incomplete,
}

named_enum!(Code, "a diagnostic code" {
    Violation => "violation",
    Unexpected => "unexpected",
    Dormant => "dormant",
    UnusedRule => "unused-rule",
    Incomplete => "incomplete",
});

impl Code {
    pub fn description(self) -> &'static str {
        match self {
            Self::Violation => "Behaviour not allowed by the policy",
            Self::Unexpected => "Behaviour not allowed and not explained by any static finding",
            Self::Dormant => {
                "Build-time code that can do something not allowed (not observed in this run)"
            }
            Self::UnusedRule => "Allow entry that matched nothing in this build",
            Self::Incomplete => "The trace lost events: behaviour may be missing",
        }
    }

    pub fn default_level(self) -> Level {
        match self {
            Self::Violation | Self::Unexpected | Self::Incomplete => Level::Deny,
            Self::Dormant | Self::UnusedRule => Level::Warn,
        }
    }
}

/// What `-D/-W/-A` names: a diagnostic code, or a behaviour kind (which wins over the code of a
/// behaviour of that kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LevelName {
    Code(Code),
    Kind(Kind),
}

impl LevelName {
    /// Every name, codes first.
    pub fn names() -> Vec<&'static str> {
        Code::names().into_iter().chain(Kind::names()).collect()
    }
}

impl std::str::FromStr for LevelName {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(c) = s.parse() {
            return Ok(Self::Code(c));
        }
        if let Ok(k) = s.parse() {
            return Ok(Self::Kind(k));
        }
        Err(UnknownName {
            what: "an outcome or kind",
            given: s.to_string(),
            expected: Self::names(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_say_what_they_could_be() {
        assert_eq!("fs.write".parse(), Ok(LevelName::Kind(Kind::FsWrite)));
        assert_eq!("unused-rule".parse(), Ok(LevelName::Code(Code::UnusedRule)));
        let e = "violaton".parse::<LevelName>().unwrap_err();
        assert_eq!(e.suggestion(), Some("violation"));
        assert!(e.to_string().contains("did you mean `violation`?"), "{e}");
    }
}
