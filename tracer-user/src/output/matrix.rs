//! The crate × behaviour-kind matrix: for each crate and kind, the worst outcome of what it did
//! (or could do, for dormant findings) and how many behaviours had each outcome. One model, so
//! the terminal, the job summary and the HTML page show the same picture.

use std::collections::BTreeMap;

use crate::{
    model::{FindingKind, Kind},
    policy::eval::{Outcome, Verdict},
    report::Report,
};

/// A cell's colour: the worst outcome in it, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shade {
    /// Not allowed and no static finding explains it.
    Unexpected,
    Violation,
    /// Build-time code that could do it and did not, in this run.
    Dormant,
    Allowed,
    /// Own sources, OUT_DIR, the toolchain.
    Routine,
}

impl Shade {
    pub const ALL: [Shade; 5] = [
        Self::Unexpected,
        Self::Violation,
        Self::Dormant,
        Self::Allowed,
        Self::Routine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unexpected => "unexpected",
            Self::Violation => "violation",
            Self::Dormant => "dormant",
            Self::Allowed => "allowed",
            Self::Routine => "routine",
        }
    }

    /// Not allowed (what the job summary lists).
    pub fn is_finding(self) -> bool {
        self < Self::Allowed
    }

    fn of(o: Outcome) -> Self {
        match o {
            Outcome::Unexpected => Self::Unexpected,
            Outcome::Violation => Self::Violation,
            Outcome::Dormant => Self::Dormant,
            Outcome::Allowed | Outcome::Confirmed => Self::Allowed,
        }
    }
}

/// One crate and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// Behaviours (or findings) per shade; routine counts accesses.
    pub counts: BTreeMap<Shade, u64>,
}

impl Cell {
    pub fn worst(&self) -> Option<Shade> {
        self.counts.keys().next().copied()
    }
}

/// One crate's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `name@version`, or `(unattributed)`.
    pub krate: String,
    pub cells: BTreeMap<Kind, Cell>,
}

impl Row {
    pub fn worst(&self) -> Shade {
        self.cells
            .values()
            .filter_map(Cell::worst)
            .min()
            .unwrap_or(Shade::Routine)
    }

    /// How many behaviours and findings are not allowed.
    pub fn not_allowed(&self) -> u64 {
        self.cells
            .values()
            .flat_map(|c| c.counts.iter())
            .filter(|(s, _)| s.is_finding())
            .map(|(_, n)| n)
            .sum()
    }
}

/// The matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matrix {
    /// The kinds anything was seen for, most suspicious first.
    pub kinds: Vec<Kind>,
    /// Most suspicious first: worst shade, then most not allowed, then by name.
    pub rows: Vec<Row>,
}

impl Matrix {
    pub fn of(report: &Report, verdict: &Verdict) -> Self {
        let mut rows: BTreeMap<String, BTreeMap<Kind, Cell>> = BTreeMap::new();
        let mut add = |krate: String, kind: Kind, shade: Shade, n: u64| {
            *rows
                .entry(krate)
                .or_default()
                .entry(kind)
                .or_default()
                .counts
                .entry(shade)
                .or_default() += n;
        };
        let who = super::rows::who;
        for c in &report.crates {
            for r in &c.routine {
                add(c.package.key().to_string(), r.kind, Shade::Routine, r.count);
            }
        }
        for b in &verdict.behaviors {
            add(
                who(&b.name, &b.version),
                b.behavior.kind,
                Shade::of(b.outcome),
                1,
            );
        }
        for f in &verdict.findings {
            if let (Outcome::Dormant, FindingKind::Does(k)) = (f.outcome, f.finding.kind) {
                add(who(&f.name, &f.version), k, Shade::Dormant, 1);
            }
        }
        let mut rows: Vec<Row> = rows
            .into_iter()
            .map(|(krate, cells)| Row { krate, cells })
            .collect();
        rows.sort_by(|a, b| {
            (a.worst(), std::cmp::Reverse(a.not_allowed()), &a.krate).cmp(&(
                b.worst(),
                std::cmp::Reverse(b.not_allowed()),
                &b.krate,
            ))
        });
        let mut kinds: Vec<Kind> = rows.iter().flat_map(|r| r.cells.keys().copied()).collect();
        kinds.sort();
        kinds.dedup();
        Self { kinds, rows }
    }

    /// The rows with anything not allowed.
    pub fn not_allowed(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.worst().is_finding())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{BuildContext, Level, Package, Phase, ProcessChain},
        policy::eval::BehaviorVerdict,
        report::{BehaviorOut, CrateReport, REPORT_SCHEMA_VERSION, RoutineCount},
    };

    fn crate_report(name: &str, routine: &[(Kind, u64)]) -> CrateReport {
        CrateReport {
            package: Package {
                name: name.into(),
                version: "1.0.0".into(),
                source: "registry".into(),
                id: format!("{name} 1.0.0"),
            },
            phases: Vec::new(),
            behaviors: Vec::new(),
            routine: routine
                .iter()
                .map(|&(kind, count)| RoutineCount {
                    phase: Phase::BuildScript,
                    kind,
                    count,
                })
                .collect(),
            routine_behaviors: Vec::new(),
        }
    }

    fn behaviour(name: &str, kind: Kind, outcome: Outcome) -> BehaviorVerdict {
        BehaviorVerdict {
            name: name.into(),
            version: "1.0.0".into(),
            behavior: BehaviorOut {
                kind,
                target: "t".into(),
                phase: Phase::BuildScript,
                count: 3,
                succeeded: 3,
                example_chain: ProcessChain::default(),
                within: None,
                run_as: None,
                crate_chain: Vec::new(),
                example_stack: None,
            },
            outcome,
            level: Level::Deny,
            allowed_by: None,
            explained_by: None,
            suggestion: None,
        }
    }

    #[test]
    fn rows_are_ordered_most_suspicious_first_and_cells_show_their_worst() {
        let report = Report {
            schema_version: REPORT_SCHEMA_VERSION,
            complete: true,
            lost_events: 0,
            events: 0,
            command: Vec::new(),
            exit_code: Some(0),
            context: BuildContext::default(),
            crates: vec![
                crate_report("quiet", &[(Kind::FsRead, 40)]),
                crate_report("evil", &[(Kind::FsRead, 2)]),
                crate_report("honest", &[]),
            ],
            cargo: Default::default(),
            unattributed: Vec::new(),
            processes: Vec::new(),
        };
        let verdict = Verdict {
            behaviors: vec![
                behaviour("honest", Kind::NetConnect, Outcome::Allowed),
                behaviour("evil", Kind::FsRead, Outcome::Violation),
                behaviour("evil", Kind::FsRead, Outcome::Unexpected),
                behaviour("evil", Kind::NetConnect, Outcome::Violation),
                behaviour("sneaky", Kind::ProcessExec, Outcome::Violation),
            ],
            findings: Vec::new(),
            unused_rules: Vec::new(),
            incomplete: Vec::new(),
            counts: BTreeMap::new(),
            unused_rule_level: Level::Warn,
            incomplete_level: Level::Deny,
            worst: Level::Deny,
        };
        let m = Matrix::of(&report, &verdict);
        let names: Vec<&str> = m.rows.iter().map(|r| r.krate.as_str()).collect();
        assert_eq!(
            names,
            ["evil@1.0.0", "sneaky@1.0.0", "honest@1.0.0", "quiet@1.0.0"]
        );
        let evil_reads = &m.rows[0].cells[&Kind::FsRead];
        assert_eq!(evil_reads.worst(), Some(Shade::Unexpected));
        assert_eq!(evil_reads.counts[&Shade::Routine], 2);
        assert_eq!(m.rows[0].not_allowed(), 3);
        assert_eq!(m.kinds, [Kind::NetConnect, Kind::ProcessExec, Kind::FsRead]);
        assert_eq!(m.not_allowed().count(), 2);
    }
}
