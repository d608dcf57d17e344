//! Cargo tracer's own flags wherever a user puts them before `--`: `cargo tracer build --release
//! --fresh` means the same as `cargo tracer build --fresh --release`. Clap hands everything from
//! the first cargo argument on to cargo, so before parsing, flags only cargo tracer has are moved
//! out of cargo's arguments to the front. The names come from clap's own definition of the
//! subcommand, so a new flag is covered when it is declared.

use clap::CommandFactory;

use super::args::Cli;

/// Flags both cargo tracer and cargo have. Before the first cargo argument they are cargo
/// tracer's (as clap parses them); among cargo's arguments they are cargo's.
const SHARED: &[&str] = &["verbose", "quiet", "color", "timings", "help"];

/// `args` (program name first, `tracer` already removed) with cargo tracer's own flags of
/// `build`/`test` moved before the first cargo argument. Anything after `--` is left alone (the
/// test binaries' arguments). Other subcommands are returned as they are.
pub fn own_flags_first(args: Vec<String>) -> Vec<String> {
    let Some(sub_name) = args.get(1).cloned() else {
        return args;
    };
    if sub_name != "build" && sub_name != "test" {
        return args;
    }
    let cli = Cli::command();
    let Some(sub) = cli.find_subcommand(&sub_name) else {
        return args;
    };
    let flags: Vec<Flag> = sub
        .get_arguments()
        .filter(|a| !a.is_positional())
        .map(|a| Flag {
            long: a.get_long().map(str::to_string),
            short: a.get_short(),
            takes_value: a.get_action().takes_values(),
            shared: a.get_long().is_some_and(|l| SHARED.contains(&l)),
        })
        .collect();
    let find = |arg: &str| -> Option<(&Flag, bool)> {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            return flags
                .iter()
                .find(|f| f.long.as_deref() == Some(name))
                .map(|f| (f, attached));
        }
        let mut chars = arg.strip_prefix('-')?.chars();
        let c = chars.next()?;
        let attached = chars.next().is_some();
        flags
            .iter()
            .find(|f| f.short == Some(c))
            .map(|f| (f, attached))
    };

    let mut out: Vec<String> = args[..2].to_vec();
    let mut cargo = Vec::new();
    let mut rest = args[2..].iter().cloned().peekable();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            cargo.push(arg);
            cargo.extend(rest.by_ref());
            break;
        }
        match find(&arg) {
            // Before the first cargo argument every flag of ours, as clap parses them; from it
            // on, those cargo does not have too.
            Some((flag, attached)) if cargo.is_empty() || !flag.shared => {
                out.push(arg);
                // `--` is never a value: clap would say the flag lacks one.
                if flag.takes_value && !attached && rest.peek().is_some_and(|v| v != "--") {
                    out.extend(rest.next());
                }
            }
            _ => cargo.push(arg),
        }
    }
    out.extend(cargo);
    out
}

struct Flag {
    long: Option<String>,
    short: Option<char>,
    takes_value: bool,
    shared: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hoisted(args: &[&str]) -> Vec<String> {
        own_flags_first(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn own_flags_among_cargo_arguments_move_to_the_front() {
        assert_eq!(
            hoisted(&[
                "ct",
                "test",
                "--fresh",
                "--locked",
                "--scan-cache",
                "D",
                "--events=F",
                "-p",
                "x",
                "--format",
                "sarif",
                "-Dunexpected",
                "-W",
                "dormant",
                "--",
                "--format",
                "json"
            ]),
            [
                "ct",
                "test",
                "--fresh",
                "--scan-cache",
                "D",
                "--events=F",
                "--format",
                "sarif",
                "-Dunexpected",
                "-W",
                "dormant",
                "--locked",
                "-p",
                "x",
                "--",
                "--format",
                "json"
            ]
        );
    }

    #[test]
    fn shared_flags_are_cargo_tracers_first_and_cargos_after() {
        let args = [
            "ct",
            "build",
            "-v",
            "--timings",
            "--release",
            "-v",
            "--timings",
        ];
        assert_eq!(hoisted(&args), args);
        // A value that looks like a flag stays with its flag.
        assert_eq!(
            hoisted(&["ct", "build", "--release", "--events", "--fresh"]),
            ["ct", "build", "--events", "--fresh", "--release"]
        );
        // `--` ends cargo's arguments even after a flag that wants a value.
        assert_eq!(
            hoisted(&["ct", "test", "--release", "--events", "--", "x"]),
            ["ct", "test", "--events", "--release", "--", "x"]
        );
        assert_eq!(
            hoisted(&["ct", "report", "x", "--offline"]),
            ["ct", "report", "x", "--offline"]
        );
    }
}
