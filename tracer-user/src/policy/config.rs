//! Reading policies: `tracer.toml`, `[workspace.metadata.tracer]` / `[package.metadata.tracer]`
//! in Cargo.toml, and the shipped defaults. Every value keeps its span, unknown keys are refused
//! with a suggestion, and every problem of a file is reported at once.

use toml_span::{Span, Value, value::Table};

use super::{
    diag::{Diagnostic, LineIndex},
    pattern::{HostPattern, PathGlobs, PatternError, PatternErrors, Programs},
    suggest::AllowKey,
};
use crate::model::{Phase, RuleRef, did_you_mean};

/// One allow entry.
#[derive(Debug, Clone)]
pub struct Rule {
    pub krate: String,
    pub version: Option<semver::VersionReq>,
    /// Phases it applies to; empty for all.
    pub phases: Vec<Phase>,
    pub read: PathGlobs,
    pub write: PathGlobs,
    pub delete: PathGlobs,
    pub exec: Programs,
    /// Programs a build script or proc macro may leave running after it ends.
    pub persist: Programs,
    pub hosts: Vec<HostPattern>,
    pub listen: Vec<HostPattern>,
    /// Also covers the build scripts of crates that depend on this one (for build helpers like
    /// `cc`, whose code runs inside the dependent's build script).
    pub dependents: bool,
    /// Where it is written, with its crate and reason.
    pub origin: RuleRef,
}

/// A parsed policy (one file or table).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// `default-policies = false` switches every shipped default off.
    pub use_defaults: Option<bool>,
    /// Shipped defaults switched off for these crates.
    pub disable_defaults: Vec<String>,
    /// Crates that do I/O on their callers' behalf (runtime attribution blames the caller).
    pub mechanisms: Vec<String>,
}

const TOP_KEYS: &[&str] = &[
    "allow",
    "default-policies",
    "disable-defaults",
    "mechanisms",
];
/// The keys of an allow entry besides its lists ([`AllowKey`]).
const RULE_KEYS: &[&str] = &["crate", "version", "phase", "reason", "dependents"];

fn span(s: Span) -> (usize, usize) {
    (s.start, s.end)
}

struct Ctx<'a> {
    file: &'a str,
    lines: LineIndex<'a>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, code: &'static str, at: Span, message: String, help: Option<String>) {
        self.diags
            .push(Diagnostic::new(code, span(at), message).help(help));
    }

    fn unknown_keys(&mut self, t: &Table<'_>, known: &[&str], what: &str, whole: Span) {
        for k in t.keys() {
            if !known.contains(&k.name.as_ref()) {
                let help = did_you_mean(&k.name, known)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("expected one of: {}", known.join(", "))));
                self.diags.push(
                    Diagnostic::new(
                        "unknown-key",
                        span(k.span),
                        format!("unknown key `{}` in {what}", k.name),
                    )
                    .label("unknown key")
                    .also(
                        span(Span::new(whole.start, whole.start)),
                        format!("in {what}"),
                    )
                    .help(help),
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

    /// A compiled pattern list; a bad pattern is a diagnostic at its place.
    fn patterns<T: Default>(
        &mut self,
        list: Vec<(String, Span)>,
        key: &str,
        compile: impl Fn(&[String]) -> Result<T, PatternErrors>,
    ) -> T {
        let strings: Vec<String> = list.iter().map(|(s, _)| s.clone()).collect();
        match compile(&strings) {
            Ok(t) => t,
            Err(errors) => {
                for (i, e) in errors {
                    let code = match e {
                        PatternError::UnknownPlaceholder { .. } => "unknown-placeholder",
                        PatternError::BadGlob { .. } => "bad-glob",
                        _ => "dead-pattern",
                    };
                    let at = list.get(i).map_or(Span::new(0, 0), |(_, s)| *s);
                    self.diags.push(
                        Diagnostic::new(code, span(at), format!("in `{key}`: {e}"))
                            .label("never matches a target")
                            .help(e.help()),
                    );
                }
                T::default()
            }
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
        let known: Vec<&str> = RULE_KEYS.iter().copied().chain(AllowKey::names()).collect();
        self.unknown_keys(t, &known, "an `allow` entry", v.span);
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
            for (p, at) in self.strings(v, "phase") {
                match p.parse::<Phase>() {
                    Ok(ph) if Phase::OF_CRATES.contains(&ph) => phases.push(ph),
                    _ => {
                        let names: Vec<&str> =
                            Phase::OF_CRATES.iter().map(|p| p.as_str()).collect();
                        let help = did_you_mean(&p, &names).map(|s| format!("did you mean `{s}`?"));
                        self.err(
                            "bad-phase",
                            at,
                            format!("unknown phase `{p}`"),
                            help.or(Some(format!("one of: {}", names.join(", ")))),
                        );
                    }
                }
            }
        }
        let mut list = |k: &str| get(k).map(|v| self.strings(v, k)).unwrap_or_default();
        let key = |k: AllowKey| k.as_str();
        let (read, write, delete, exec, persist) = (
            list(key(AllowKey::Read)),
            list(key(AllowKey::Write)),
            list(key(AllowKey::Delete)),
            list(key(AllowKey::Exec)),
            list(key(AllowKey::Persist)),
        );
        let read = self.patterns(read, key(AllowKey::Read), PathGlobs::new);
        let write = self.patterns(write, key(AllowKey::Write), PathGlobs::new);
        let delete = self.patterns(delete, key(AllowKey::Delete), PathGlobs::new);
        let exec = self.patterns(exec, key(AllowKey::Exec), Programs::new);
        let persist = self.patterns(persist, key(AllowKey::Persist), Programs::new);
        let mut hosts_of = |k: &str| -> Vec<HostPattern> {
            let Some(v) = get(k) else { return Vec::new() };
            self.strings(v, k)
                .into_iter()
                .filter_map(|(s, at)| match HostPattern::parse(&s) {
                    Ok(h) if h.is_name() && k == AllowKey::Listen.as_str() => {
                        self.err(
                            "bad-host",
                            at,
                            format!("`{s}` is a name: a process listens on an address"),
                            Some("write an address with a port, e.g. `127.0.0.1:8080`".into()),
                        );
                        None
                    }
                    Ok(h) => Some(h),
                    Err(e) => {
                        self.err("bad-host", at, e.to_string(), None);
                        None
                    }
                })
                .collect()
        };
        let (hosts, listen) = (
            hosts_of(AllowKey::Hosts.as_str()),
            hosts_of(AllowKey::Listen.as_str()),
        );
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
        let (line, column) = self.lines.line_col(v.span.start);
        let (krate, reason) = (krate?, reason?);
        Some(Rule {
            version,
            phases,
            read,
            write,
            delete,
            exec,
            persist,
            hosts,
            listen,
            dependents,
            origin: RuleRef {
                krate: krate.clone(),
                reason: reason.clone(),
                file: self.file.to_string(),
                line,
                column,
                span: span(v.span),
            },
            krate,
        })
    }

    fn policy(&mut self, t: &Table<'_>, whole: Span) -> Policy {
        self.unknown_keys(t, TOP_KEYS, "the policy", whole);
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
                "mechanisms" => {
                    p.mechanisms = self
                        .strings(v, "mechanisms")
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect();
                }
                "disable-defaults" => {
                    let shipped: Vec<&str> =
                        super::defaults::DEFAULTS.iter().map(|(n, _)| *n).collect();
                    for (name, at) in self.strings(v, "disable-defaults") {
                        if !shipped.contains(&name.as_str()) {
                            let help = did_you_mean(&name, &shipped)
                                .map(|s| format!("did you mean `{s}`?"))
                                .or(Some(format!("shipped: {}", shipped.join(", "))));
                            self.err(
                                "unknown-default",
                                at,
                                format!("no shipped default policy is for `{name}`"),
                                help,
                            );
                        }
                        p.disable_defaults.push(name);
                    }
                }
                _ => {}
            }
        }
        p
    }
}

/// A TOML syntax error as a diagnostic, with the labels toml-span gives it.
fn toml_error(e: &toml_span::Error) -> Diagnostic {
    let rendered = e.to_diagnostic(());
    let mut d = Diagnostic::new(
        "toml",
        (e.span.start, e.span.end.max(e.span.start + 1)),
        format!("not valid TOML: {}", e.kind),
    );
    for l in &rendered.labels {
        let at = (l.range.start, l.range.end);
        match l.style {
            codespan_reporting::diagnostic::LabelStyle::Primary => {
                d.span = (at.0, at.1.max(at.0 + 1));
                d.label = l.message.clone();
            }
            codespan_reporting::diagnostic::LabelStyle::Secondary => {
                d = d.also(at, l.message.clone());
            }
        }
    }
    d
}

/// Parses the policy at `path` inside `text` (`&[]` for a whole `tracer.toml`,
/// `&["workspace", "metadata", "tracer"]` in a Cargo.toml). `Ok(None)` if the table is absent.
pub fn parse(text: &str, file: &str, path: &[&str]) -> Result<Option<Policy>, Vec<Diagnostic>> {
    parse_tables(text, file, &[path]).map(|mut v| v.pop().flatten())
}

/// Parses the file once and reads the policy of each table in `paths` (`None` where absent).
pub fn parse_tables(
    text: &str,
    file: &str,
    paths: &[&[&str]],
) -> Result<Vec<Option<Policy>>, Vec<Diagnostic>> {
    let root = toml_span::parse(text).map_err(|e| vec![toml_error(&e)])?;
    let mut ctx = Ctx {
        file,
        lines: LineIndex::new(text),
        diags: Vec::new(),
    };
    let mut out = Vec::new();
    for path in paths {
        let mut cur: Option<&Value<'_>> = Some(&root);
        for key in *path {
            cur = cur
                .and_then(|v| v.as_table())
                .and_then(|t| t.iter().find(|(k, _)| k.name == *key).map(|(_, v)| v));
        }
        let Some(v) = cur else {
            out.push(None);
            continue;
        };
        let whole = v.span;
        out.push(Some(match v.as_table() {
            Some(t) => ctx.policy(t, whole),
            None => {
                ctx.err(
                    "wrong-type",
                    v.span,
                    "the policy must be a table".into(),
                    None,
                );
                Policy::default()
            }
        }));
    }
    if ctx.diags.is_empty() {
        Ok(out)
    } else {
        // In the order they appear in the file.
        ctx.diags.sort_by_key(|d| d.span);
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
hosts = ["*.openssl.org", "10.0.0.0/8:443"]
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
        assert!(r.exec.matches("/usr/bin/make") && !r.exec.matches("/usr/bin/cc"));
        assert!(
            r.version
                .as_ref()
                .unwrap()
                .matches(&semver::Version::new(300, 1, 0))
        );
        assert_eq!(r.hosts.len(), 2);
        assert_eq!(
            (
                r.origin.file.as_str(),
                r.origin.line,
                r.origin.reason.as_str()
            ),
            ("Cargo.toml", 8, "builds vendored OpenSSL")
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
        let r = typo.render("tracer.toml", text);
        assert!(
            r.contains("tracer.toml:5:1") && r.contains("wirte = "),
            "{r}"
        );
        let phase = diags.iter().find(|d| d.code == "bad-phase").unwrap();
        assert_eq!(phase.help.as_deref(), Some("did you mean `build-script`?"));
    }

    #[test]
    fn a_glob_that_cannot_match_is_a_mistake_at_its_place() {
        let text = "[[allow]]\ncrate = \"x\"\nreason = \"r\"\nwrite = [\"$OUT_DIR/**\", \"$OUTDIR/**\"]\nread = [\"/a/[b\"]\n";
        let diags = parse(text, "tracer.toml", &[]).unwrap_err();
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["unknown-placeholder", "bad-glob"], "{diags:#?}");
        let r = diags[0].render("tracer.toml", text);
        assert!(
            r.contains("tracer.toml:4:26") && r.contains("did you mean `$OUT_DIR`?"),
            "{r}"
        );
    }

    #[test]
    fn broken_toml_is_a_diagnostic_too() {
        let d = parse("[[allow]\ncrate = 1", "tracer.toml", &[]).unwrap_err();
        assert_eq!(d[0].code, "toml");
        assert!(
            d[0].render("tracer.toml", "[[allow]\ncrate = 1")
                .contains("tracer.toml:1:")
        );
    }
}
