//! Reading policies: `tracer.toml`, `[workspace.metadata.tracer]` / `[package.metadata.tracer]`
//! in Cargo.toml, and the shipped defaults. Every value keeps its span, unknown keys are refused
//! with a suggestion, and every problem of a file is reported at once.

use toml_span::{
    Span, Value,
    value::{Table, ValueInner},
};

use super::{
    diag::{Diagnostic, did_you_mean, line_col},
    pattern::HostPattern,
};
use crate::attribution::Phase;

/// Where a rule was written, for "allowed by" and for rules that matched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// One allow entry.
#[derive(Debug, Clone)]
pub struct Rule {
    pub krate: String,
    pub version: Option<semver::VersionReq>,
    /// Phases it applies to; empty for all.
    pub phases: Vec<Phase>,
    pub reason: String,
    pub read: Vec<String>,
    pub write: Vec<String>,
    pub delete: Vec<String>,
    pub exec: Vec<String>,
    pub hosts: Vec<HostPattern>,
    pub listen: Vec<HostPattern>,
    /// Also covers the build scripts of crates that depend on this one (for build helpers like
    /// `cc`, whose code runs inside the dependent's build script).
    pub dependents: bool,
    pub origin: Origin,
}

/// A parsed policy (one file or table).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// `default-policies = false` switches every shipped default off.
    pub use_defaults: Option<bool>,
    /// Shipped defaults switched off for these crates.
    pub disable_defaults: Vec<String>,
}

const TOP_KEYS: &[&str] = &["allow", "default-policies", "disable-defaults"];
const RULE_KEYS: &[&str] = &[
    "crate",
    "version",
    "phase",
    "reason",
    "read",
    "write",
    "delete",
    "exec",
    "hosts",
    "listen",
    "dependents",
];
const PHASES: &[(&str, Phase)] = &[
    ("build-script", Phase::BuildScript),
    ("proc-macro", Phase::ProcMacro),
    ("compile", Phase::Compile),
    ("test", Phase::Test),
    ("run", Phase::Run),
];

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, code: &'static str, span: Span, message: String, help: Option<String>) {
        self.diags.push(Diagnostic {
            code,
            message,
            file: self.file.to_string(),
            span: (span.start, span.end),
            help,
        });
    }

    fn unknown_keys(&mut self, t: &Table<'_>, known: &[&str], what: &str) {
        for k in t.keys() {
            if !known.contains(&k.name.as_ref()) {
                let help = did_you_mean(&k.name, known)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("expected one of: {}", known.join(", "))));
                self.err(
                    "unknown-key",
                    k.span,
                    format!("unknown key `{}` in {what}", k.name),
                    help,
                );
            }
        }
    }

    fn string(&mut self, v: &Value<'_>, key: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.err(
                    "wrong-type",
                    v.span,
                    format!("`{key}` must be a string"),
                    None,
                );
                None
            }
        }
    }

    fn strings(&mut self, v: &Value<'_>, key: &str) -> Vec<(String, Span)> {
        match v.as_array() {
            Some(a) => a
                .iter()
                .filter_map(|x| match x.as_str() {
                    Some(s) => Some((s.to_string(), x.span)),
                    None => {
                        self.err(
                            "wrong-type",
                            x.span,
                            format!("every entry of `{key}` must be a string"),
                            None,
                        );
                        None
                    }
                })
                .collect(),
            None => match v.as_str() {
                Some(s) => vec![(s.to_string(), v.span)],
                None => {
                    self.err(
                        "wrong-type",
                        v.span,
                        format!("`{key}` must be a list of strings"),
                        None,
                    );
                    Vec::new()
                }
            },
        }
    }

    fn rule(&mut self, v: &Value<'_>) -> Option<Rule> {
        let Some(t) = v.as_table() else {
            self.err(
                "wrong-type",
                v.span,
                "each `allow` entry must be a table".into(),
                Some("write it as [[allow]]".into()),
            );
            return None;
        };
        self.unknown_keys(t, RULE_KEYS, "an `allow` entry");
        let get = |k: &str| t.iter().find(|(key, _)| key.name == k).map(|(_, v)| v);
        let krate = match get("crate") {
            Some(v) => self.string(v, "crate"),
            None => {
                self.err(
                    "missing-crate",
                    v.span,
                    "an `allow` entry has no `crate`".into(),
                    Some("add `crate = \"name\"`".into()),
                );
                None
            }
        };
        let reason = match get("reason") {
            Some(v) => self.string(v, "reason").filter(|r| {
                let ok = !r.trim().is_empty();
                if !ok {
                    self.err(
                        "missing-reason",
                        v.span,
                        "`reason` is empty".into(),
                        Some("say why the crate needs this".into()),
                    );
                }
                ok
            }),
            None => {
                self.err(
                    "missing-reason",
                    v.span,
                    "an `allow` entry has no `reason`".into(),
                    Some("every entry says why the crate needs it: add `reason = \"…\"`".into()),
                );
                None
            }
        };
        let version = get("version").and_then(|v| {
            let s = self.string(v, "version")?;
            match semver::VersionReq::parse(&s) {
                Ok(r) => Some(r),
                Err(e) => {
                    self.err(
                        "bad-version",
                        v.span,
                        format!("`{s}` is not a version requirement: {e}"),
                        Some("e.g. \">=1.2\" or \"^0.9\"".into()),
                    );
                    None
                }
            }
        });
        let mut phases = Vec::new();
        if let Some(v) = get("phase") {
            for (p, span) in self.strings(v, "phase") {
                match PHASES.iter().find(|(n, _)| *n == p) {
                    Some((_, ph)) => phases.push(*ph),
                    None => {
                        let names: Vec<&str> = PHASES.iter().map(|(n, _)| *n).collect();
                        let help = did_you_mean(&p, &names).map(|s| format!("did you mean `{s}`?"));
                        self.err(
                            "bad-phase",
                            span,
                            format!("unknown phase `{p}`"),
                            help.or(Some(format!("one of: {}", names.join(", ")))),
                        );
                    }
                }
            }
        }
        let mut list = |k: &str| {
            get(k)
                .map(|v| self.strings(v, k).into_iter().map(|(s, _)| s).collect())
                .unwrap_or_default()
        };
        let (read, write, delete, exec) =
            (list("read"), list("write"), list("delete"), list("exec"));
        let mut hosts_of = |k: &str| -> Vec<HostPattern> {
            let Some(v) = get(k) else { return Vec::new() };
            self.strings(v, k)
                .into_iter()
                .filter_map(|(s, span)| match HostPattern::parse(&s) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        self.err("bad-host", span, e.to_string(), None);
                        None
                    }
                })
                .collect()
        };
        let (hosts, listen) = (hosts_of("hosts"), hosts_of("listen"));
        let dependents = match get("dependents") {
            Some(v) => v.as_bool().unwrap_or_else(|| {
                self.err(
                    "wrong-type",
                    v.span,
                    "`dependents` must be true or false".into(),
                    None,
                );
                false
            }),
            None => false,
        };
        let (line, _) = line_col(self.text, v.span.start);
        Some(Rule {
            krate: krate?,
            version,
            phases,
            reason: reason?,
            read,
            write,
            delete,
            exec,
            hosts,
            listen,
            dependents,
            origin: Origin {
                file: self.file.to_string(),
                line,
            },
        })
    }

    fn policy(&mut self, t: &Table<'_>) -> Policy {
        self.unknown_keys(t, TOP_KEYS, "the policy");
        let mut p = Policy::default();
        for (k, v) in t {
            match k.name.as_ref() {
                "allow" => match v.as_array() {
                    Some(a) => p.rules.extend(a.iter().filter_map(|r| self.rule(r))),
                    None => self.err(
                        "wrong-type",
                        v.span,
                        "`allow` must be a list of tables".into(),
                        Some("write entries as [[allow]]".into()),
                    ),
                },
                "default-policies" => match v.as_bool() {
                    Some(b) => p.use_defaults = Some(b),
                    None => self.err(
                        "wrong-type",
                        v.span,
                        "`default-policies` must be true or false".into(),
                        None,
                    ),
                },
                "disable-defaults" => {
                    p.disable_defaults = self
                        .strings(v, "disable-defaults")
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect()
                }
                _ => {}
            }
        }
        p
    }
}

/// Parses the policy at `path` inside `text` (`&[]` for a whole `tracer.toml`,
/// `&["workspace", "metadata", "tracer"]` in a Cargo.toml). `Ok(None)` if the table is absent.
pub fn parse(text: &str, file: &str, path: &[&str]) -> Result<Option<Policy>, Vec<Diagnostic>> {
    let mut root = toml_span::parse(text).map_err(|e| {
        vec![Diagnostic {
            code: "toml",
            message: format!("not valid TOML: {}", e.kind),
            file: file.to_string(),
            span: (e.span.start, e.span.end.max(e.span.start + 1)),
            help: None,
        }]
    })?;
    let cur: &mut Value<'_> = &mut root;
    for key in path {
        let next = match cur.take() {
            ValueInner::Table(mut t) => t
                .iter()
                .find(|(k, _)| k.name == *key)
                .map(|(k, _)| k.clone())
                .and_then(|k| t.remove(&k)),
            _ => None,
        };
        match next {
            Some(v) => {
                *cur = v;
            }
            None => return Ok(None),
        }
    }
    let mut ctx = Ctx {
        file,
        text,
        diags: Vec::new(),
    };
    let policy = match cur.as_table() {
        Some(t) => ctx.policy(t),
        None => {
            ctx.err(
                "wrong-type",
                cur.span,
                "the policy must be a table".into(),
                None,
            );
            Policy::default()
        }
    };
    if ctx.diags.is_empty() {
        Ok(Some(policy))
    } else {
        Err(ctx.diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rules_from_cargo_toml_metadata() {
        let text = r#"
[package]
name = "x"

[package.metadata.tracer]
disable-defaults = ["cc"]

[[package.metadata.tracer.allow]]
crate = "openssl-src"
version = ">=300"
phase = "build-script"
reason = "builds vendored OpenSSL"
exec = ["make", "perl"]
write = ["$OUT_DIR/**"]
hosts = ["*.openssl.org:443", "10.0.0.0/8"]
"#;
        let p = parse(text, "Cargo.toml", &["package", "metadata", "tracer"])
            .unwrap()
            .unwrap();
        assert_eq!(p.disable_defaults, vec!["cc"]);
        let r = &p.rules[0];
        assert_eq!(
            (r.krate.as_str(), r.phases.as_slice()),
            ("openssl-src", &[Phase::BuildScript][..])
        );
        assert!(
            r.version
                .as_ref()
                .unwrap()
                .matches(&semver::Version::new(300, 1, 0))
        );
        assert_eq!(r.exec, vec!["make", "perl"]);
        assert_eq!(r.hosts.len(), 2);
        assert_eq!(
            r.origin,
            Origin {
                file: "Cargo.toml".into(),
                line: 8
            }
        );
        assert!(
            parse(
                "[package]\nname = \"x\"\n",
                "Cargo.toml",
                &["package", "metadata", "tracer"]
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn every_mistake_is_reported_with_its_location() {
        let text = "default-policies = \"yes\"\n\n[[allow]]\ncrate = \"cc\"\nwirte = [\"$OUT_DIR/**\"]\nphase = \"biuld-script\"\nversion = \"not a req\"\nhosts = [\"10.0.0.0/99\"]\n\n[[allow]]\ncrate = \"x\"\n";
        let diags = parse(text, "tracer.toml", &[]).unwrap_err();
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        for c in [
            "wrong-type",
            "unknown-key",
            "bad-phase",
            "bad-version",
            "bad-host",
            "missing-reason",
        ] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
        let typo = diags.iter().find(|d| d.code == "unknown-key").unwrap();
        assert_eq!(typo.help.as_deref(), Some("did you mean `write`?"));
        let r = typo.render(text);
        assert!(
            r.contains("tracer.toml:5:1") && r.contains("wirte = "),
            "{r}"
        );
        let phase = diags.iter().find(|d| d.code == "bad-phase").unwrap();
        assert_eq!(phase.help.as_deref(), Some("did you mean `build-script`?"));
    }

    #[test]
    fn broken_toml_is_a_diagnostic_too() {
        let d = parse("[[allow]\ncrate = 1", "tracer.toml", &[]).unwrap_err();
        assert_eq!(d[0].code, "toml");
        assert!(
            d[0].render("[[allow]\ncrate = 1")
                .contains("tracer.toml:1:")
        );
    }
}
