//! The compact crate × kind matrix at the top of the human report: one line per crate that did
//! anything notable, each cell its worst outcome and how many behaviours had it.

use std::fmt::Write as _;

use crate::output::{
    escape::human as h,
    matrix::{Cell, Matrix, Shade},
    style::{self, paint},
    text,
};

/// Rows shown before "… and N more".
const ROWS: usize = 20;
/// Longest crate name shown.
const CRATE_WIDTH: usize = 32;

fn letter(s: Shade) -> &'static str {
    match s {
        Shade::Unexpected => "U",
        Shade::Violation => "V",
        Shade::Dormant => "D",
        Shade::Allowed => "A",
        Shade::Routine => "r",
    }
}

/// `V2` (worst shade, its count), `V2+` when the cell holds other outcomes too.
fn cell(c: &Cell) -> (String, Option<Shade>) {
    let Some(worst) = c.worst() else {
        return ("·".into(), None);
    };
    let more = if c.counts.len() > 1 { "+" } else { "" };
    (
        format!("{}{}{more}", letter(worst), c.counts[&worst]),
        Some(worst),
    )
}

/// The matrix as text (empty when no crate did anything beyond routine).
pub fn render(m: &Matrix) -> String {
    let rows: Vec<_> = m
        .rows
        .iter()
        .filter(|r| r.worst() != Shade::Routine)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let names: Vec<String> = rows
        .iter()
        .map(|r| text::elide(&h(&r.krate), CRATE_WIDTH, CRATE_WIDTH / 2))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let labels: Vec<&str> = m
        .kinds
        .iter()
        .map(|k| k.as_str().split_once('.').map_or(k.as_str(), |(_, l)| l))
        .collect();
    let cols: Vec<usize> = labels.iter().map(|l| l.len().max(5)).collect();
    let mut s = String::new();
    let _ = write!(s, "{:<width$}", "crate");
    for (l, w) in labels.iter().zip(&cols) {
        let _ = write!(s, " {l:>w$}");
    }
    let _ = writeln!(s);
    for (r, name) in rows.iter().zip(&names).take(ROWS) {
        let _ = write!(s, "{name:<width$}");
        for (k, w) in m.kinds.iter().zip(&cols) {
            let (t, shade) = r.cells.get(k).map_or(("·".into(), None), cell);
            let padded = format!("{t:>w$}");
            let _ = write!(
                s,
                " {}",
                match shade {
                    Some(sh) => paint(style::shade(sh), &padded),
                    None => padded,
                }
            );
        }
        let _ = writeln!(s);
    }
    if rows.len() > ROWS {
        let _ = writeln!(s, "… and {} more crates", rows.len() - ROWS);
    }
    let _ = writeln!(
        s,
        "{}",
        paint(
            style::DIM,
            "U unexpected · V violation · D dormant · A allowed · r routine accesses; + other outcomes too"
        )
    );
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{model::Kind, output::matrix::Row};

    #[test]
    fn shows_each_cells_worst_outcome_and_leaves_routine_only_crates_out() {
        let cell = |pairs: &[(Shade, u64)]| Cell {
            counts: pairs.iter().copied().collect(),
        };
        let m = Matrix {
            kinds: vec![Kind::NetConnect, Kind::FsRead],
            rows: vec![
                Row {
                    krate: "evil@1.0.0".into(),
                    cells: BTreeMap::from([
                        (Kind::NetConnect, cell(&[(Shade::Violation, 2)])),
                        (
                            Kind::FsRead,
                            cell(&[(Shade::Unexpected, 1), (Shade::Routine, 9)]),
                        ),
                    ]),
                },
                Row {
                    krate: "quiet@1.0.0".into(),
                    cells: BTreeMap::from([(Kind::FsRead, cell(&[(Shade::Routine, 9)]))]),
                },
            ],
        };
        let out = style::strip(&render(&m));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "crate      connect  read");
        assert_eq!(lines[1], "evil@1.0.0      V2   U1+");
        assert!(!out.contains("quiet"), "{out}");
    }
}
