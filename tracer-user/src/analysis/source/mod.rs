//! Source-level findings: one file parsed with `syn`, every call, macro, foreign declaration,
//! attribute and string literal looked at once.

pub mod decode;
pub mod imports;
pub mod literals;
pub mod rules;

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::{
    Expr, ExprLit, Lit, Macro,
    punctuated::Punctuated,
    spanned::Spanned,
    visit::{self, Visit},
};

use super::{Finding, Location};
use crate::model::{FindingKind, Kind, TargetKind};
use imports::Imports;

/// A `mod name;` declaration (its file is elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    /// Declared under `#[cfg(test)]`: its file is test code.
    pub test: bool,
    /// `#[path = "…"]`.
    pub path_attr: Option<String>,
    /// Names of the inline modules it is nested in (`mod a { mod b; }` → `["a"]`).
    pub inline_parents: Vec<String>,
}

/// What scanning one file found.
#[derive(Debug, Default)]
pub struct FileScan {
    pub findings: Vec<Finding>,
    pub modules: Vec<ModDecl>,
    /// Literal paths of `include!(…)`: more code of the same crate.
    pub includes: Vec<String>,
}

/// Scans one file's text. `rel` is its path relative to the crate root.
pub fn scan_text(text: &str, rel: &str, phase: TargetKind) -> Vec<Finding> {
    scan_file(text, rel, phase).findings
}

/// Scans one file's text and lists the module files it declares.
pub fn scan_file(text: &str, rel: &str, phase: TargetKind) -> FileScan {
    let file = match syn::parse_file(text) {
        Ok(f) => f,
        Err(e) => {
            let start = e.span().start();
            let findings = vec![Finding {
                kind: FindingKind::Unparsed,
                phase,
                location: Location {
                    file: rel.into(),
                    line: start.line.max(1),
                    column: start.column + 1,
                },
                code: text
                    .lines()
                    .nth(start.line.saturating_sub(1))
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                target: None,
                reason: format!("could not parse: {e}; nothing in this file was checked"),
                obfuscated: false,
                secret: false,
            }];
            return FileScan {
                findings,
                ..FileScan::default()
            };
        }
    };
    let mut s = Scanner {
        imports: Imports::from_file(&file),
        consts: HashMap::new(),
        lines: text.lines().collect(),
        rel,
        phase,
        out: Vec::new(),
        seen: HashSet::new(),
        byte_arrays: Vec::new(),
        xor_keys: HashSet::new(),
        modules: Vec::new(),
        includes: Vec::new(),
        inline: Vec::new(),
        phases: Vec::new(),
    };
    s.collect_consts(&file);
    s.visit_file(&file);
    s.decode_xor();
    FileScan {
        findings: s.out,
        modules: s.modules,
        includes: s.includes,
    }
}

struct Scanner<'a> {
    imports: Imports,
    /// `const NAME: &str = "…";` in the file, so `connect(HOST)` knows the host.
    consts: HashMap<String, String>,
    lines: Vec<&'a str>,
    rel: &'a str,
    phase: TargetKind,
    out: Vec<Finding>,
    seen: HashSet<(FindingKind, usize, usize, String)>,
    /// Integer arrays that may be XOR-encoded strings.
    byte_arrays: Vec<(Span, Vec<u8>)>,
    /// Constants something is XORed with.
    xor_keys: HashSet<u8>,
    modules: Vec<ModDecl>,
    includes: Vec<String>,
    /// Inline modules being visited.
    inline: Vec<String>,
    /// Phases of enclosing items (`#[cfg(test)] mod tests { … }` is test code).
    phases: Vec<TargetKind>,
}

fn path_segments(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn macro_name(m: &Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

impl Scanner<'_> {
    fn current_phase(&self) -> TargetKind {
        self.phases.last().copied().unwrap_or(self.phase)
    }

    /// Visits an item, as test code if its attributes say so.
    fn scoped(&mut self, attrs: &[syn::Attribute], f: impl FnOnce(&mut Self)) {
        let test = is_test_only(attrs);
        if test {
            self.phases.push(TargetKind::Test);
        }
        f(self);
        if test {
            self.phases.pop();
        }
    }

    fn collect_consts(&mut self, file: &syn::File) {
        struct C<'b>(&'b mut HashMap<String, String>);
        impl<'ast> Visit<'ast> for C<'_> {
            fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &*c.expr
                {
                    self.0.insert(c.ident.to_string(), s.value());
                }
            }
            fn visit_item_static(&mut self, c: &'ast syn::ItemStatic) {
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &*c.expr
                {
                    self.0.insert(c.ident.to_string(), s.value());
                }
            }
        }
        C(&mut self.consts).visit_file(file);
    }

    fn push(
        &mut self,
        kind: FindingKind,
        span: Span,
        target: Option<String>,
        reason: String,
        obfuscated: bool,
    ) {
        let start = span.start();
        let key = (
            kind,
            start.line,
            start.column,
            target.clone().unwrap_or_default(),
        );
        if !self.seen.insert(key) {
            return;
        }
        let phase = self.current_phase();
        let secret =
            kind == FindingKind::EnvRead && target.as_deref().is_some_and(rules::is_secret_name);
        self.out.push(Finding {
            kind,
            phase,
            location: Location {
                file: self.rel.into(),
                line: start.line,
                column: start.column + 1,
            },
            code: self
                .lines
                .get(start.line.saturating_sub(1))
                .map(|l| l.trim().to_string())
                .unwrap_or_default(),
            target,
            reason,
            obfuscated,
            secret,
        });
    }

    /// The constant string an expression evaluates to, if it is one (literal, `&"…"`, a const,
    /// `concat!`/`format!` of literals, `"a".to_string() + "b"`). The flag says whether it took
    /// joining pieces to get it.
    fn constant(&self, e: &Expr) -> Option<(String, bool)> {
        match e {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some((s.value(), false)),
            Expr::Reference(r) => self.constant(&r.expr),
            Expr::Paren(p) => self.constant(&p.expr),
            Expr::Group(g) => self.constant(&g.expr),
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.consts.get(&i.to_string()))
                .map(|v| (v.clone(), false)),
            Expr::Macro(m) => self.macro_constant(&m.mac).map(|v| (v, true)),
            Expr::MethodCall(m)
                if ["to_string", "to_owned", "into"].contains(&m.method.to_string().as_str()) =>
            {
                self.constant(&m.receiver)
            }
            Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                Expr::Path(p) if path_segments(&p.path).last().is_some_and(|l| l == "from") => {
                    self.constant(&c.args[0])
                }
                _ => None,
            },
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                let (l, _) = self.constant(&b.left)?;
                let (r, _) = self.constant(&b.right)?;
                Some((l + &r, true))
            }
            Expr::MethodCall(m)
                if m.method == "concat" || (m.method == "join" && m.args.len() == 1) =>
            {
                let sep = match m.args.first() {
                    Some(a) => self.constant(a)?.0,
                    None => String::new(),
                };
                let Expr::Array(a) = strip(&m.receiver) else {
                    return None;
                };
                let parts: Option<Vec<String>> = a
                    .elems
                    .iter()
                    .map(|x| self.constant(x).map(|(v, _)| v))
                    .collect();
                Some((parts?.join(&sep), true))
            }
            _ => None,
        }
    }

    /// `concat!("a", "b")`, `format!("{}{}", "a", "b")` of literals only.
    fn macro_constant(&self, m: &Macro) -> Option<String> {
        let args: Punctuated<Expr, syn::Token![,]> =
            m.parse_body_with(Punctuated::parse_terminated).ok()?;
        let vals: Option<Vec<String>> = args
            .iter()
            .map(|a| self.constant(a).map(|(v, _)| v))
            .collect();
        let vals = vals?;
        match macro_name(m).as_str() {
            "concat" => Some(vals.concat()),
            "format" => {
                let (fmt, rest) = vals.split_first()?;
                let mut out = String::new();
                let mut it = rest.iter();
                let mut pieces = fmt.split("{}");
                out.push_str(pieces.next()?);
                for p in pieces {
                    out.push_str(it.next()?);
                    out.push_str(p);
                }
                (!out.contains('{')).then_some(out)
            }
            _ => None,
        }
    }

    fn call(&mut self, func: &syn::Path, args: &Punctuated<Expr, syn::Token![,]>, span: Span) {
        let segs = path_segments(func);
        for full in self.imports.resolve(&segs) {
            let Some(kind) = rules::classify_path(&full) else {
                continue;
            };
            let first = args.first().and_then(|a| self.constant(a));
            if kind == FindingKind::RawSyscall {
                self.raw_syscall(args, span, &full);
                return;
            }
            let (target, joined) = match first {
                Some((v, j)) => (Some(v), j),
                // `format!("{home}/.ssh/id_rsa")`: the template still says what it is.
                None => (args.first().and_then(format_template), false),
            };
            // Binding a UDP socket to port 0 is how a client gets a socket, not a listening port.
            if full.ends_with("UdpSocket::bind")
                && target.as_deref().is_some_and(|t| t.ends_with(":0"))
            {
                return;
            }
            if kind == FindingKind::EnvRead
                && target
                    .as_deref()
                    .is_some_and(rules::is_cargo_build_variable)
            {
                return;
            }
            let obfuscated = joined
                && target
                    .as_deref()
                    .is_some_and(|t| !self.plain_literal_names(t));
            self.push(kind, span, target, format!("calls `{full}`"), obfuscated);
            return;
        }
    }

    /// Whether some plain literal of the file already shows `t` (so joining revealed nothing).
    fn plain_literal_names(&self, t: &str) -> bool {
        self.lines.iter().any(|l| l.contains(t))
    }

    fn raw_syscall(&mut self, args: &Punctuated<Expr, syn::Token![,]>, span: Span, via: &str) {
        let known = match args.first() {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Int(n), ..
            })) => n
                .base10_parse::<u64>()
                .ok()
                .and_then(rules::classify_syscall_number)
                .map(|(k, name)| (k, name.to_string())),
            Some(Expr::Path(p)) => {
                let name = path_segments(&p.path).pop().unwrap_or_default();
                rules::classify_syscall_name(&name).map(|k| (k, name))
            }
            _ => None,
        };
        match known {
            Some((kind, name)) => {
                self.push(kind, span, None, format!("raw `{via}` of {name}"), false)
            }
            None => self.push(
                FindingKind::RawSyscall,
                span,
                None,
                format!("raw `{via}` (number not constant)"),
                false,
            ),
        }
    }

    /// A string literal: a host or URL, a credential file, or a payload hidden by encoding.
    fn literal(&mut self, value: &str, span: Span) {
        if let Some(t) = literals::network_target(value) {
            self.push(
                FindingKind::LiteralHost,
                span,
                Some(t),
                "names a host or URL".into(),
                false,
            );
        } else if literals::credential_file(value) {
            self.push(
                FindingKind::Does(Kind::FsRead),
                span,
                Some(value.to_string()),
                "names a credential file".into(),
                false,
            );
        } else {
            for (how, decoded) in [
                ("base64", decode::base64(value)),
                ("hex", decode::hex(value)),
            ] {
                if let Some(d) = decoded {
                    self.revealed(&d, span, how);
                }
            }
        }
    }

    /// Reports what decoding revealed, if it names something.
    fn revealed(&mut self, decoded: &str, span: Span, how: &str) {
        if let Some(t) = literals::network_target(decoded) {
            self.push(
                FindingKind::LiteralHost,
                span,
                Some(t),
                format!("names a host or URL once {}", undo(how)),
                true,
            );
        } else if literals::credential_file(decoded) {
            self.push(
                FindingKind::Does(Kind::FsRead),
                span,
                Some(decoded.into()),
                format!("names a credential file once {}", undo(how)),
                true,
            );
        } else if [
            "sh -c",
            "bash -c",
            "curl ",
            "wget ",
            "/bin/sh",
            "powershell",
        ]
        .iter()
        .any(|c| decoded.contains(c))
        {
            self.push(
                FindingKind::Does(Kind::ProcessExec),
                span,
                Some(decoded.into()),
                format!("a shell command once {}", undo(how)),
                true,
            );
        }
    }

    fn decode_xor(&mut self) {
        let arrays = std::mem::take(&mut self.byte_arrays);
        let mut keys: Vec<u8> = self.xor_keys.iter().copied().collect();
        keys.sort_unstable();
        for (span, bytes) in arrays {
            for &k in &keys {
                if let Some(d) = decode::xor(&bytes, k) {
                    self.revealed(&d, span, &format!("XOR-{k:#04x}"));
                }
            }
        }
    }

    fn mac(&mut self, m: &Macro) {
        let span = m.path.span();
        let name = macro_name(m);
        match name.as_str() {
            "include_bytes" | "include_str" | "include" => {
                if name == "include"
                    && let Ok(Expr::Lit(ExprLit {
                        lit: Lit::Str(p), ..
                    })) = m.parse_body::<Expr>()
                {
                    self.includes.push(p.value());
                }
                let arg: Option<Expr> = m.parse_body().ok();
                // Built from the environment: fine for OUT_DIR and the crate's own directory.
                let tokens = m.tokens.to_string();
                let uses_env = (tokens.contains("env !") || tokens.contains("env!"))
                    && !tokens.contains("\"OUT_DIR\"")
                    && !tokens.contains("\"CARGO_MANIFEST_DIR\"");
                let path = arg.as_ref().and_then(|a| self.constant(a)).map(|(v, _)| v);
                let outside = path.as_deref().is_some_and(|p| escapes_crate(self.rel, p));
                if uses_env || outside {
                    let target = path.or_else(|| Some(m.tokens.to_string()));
                    self.push(
                        FindingKind::CompileInclude,
                        span,
                        target,
                        format!("`{name}!` of a file outside the crate"),
                        false,
                    );
                }
            }
            "env" | "option_env" => {
                if let Ok(Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                })) = m.parse_body_with(|p: syn::parse::ParseStream<'_>| {
                    let e: Expr = p.parse()?;
                    let _ = p.parse::<Option<syn::Token![,]>>();
                    let _: proc_macro2::TokenStream = p.parse()?;
                    Ok(e)
                }) && !rules::is_cargo_build_variable(&s.value())
                {
                    self.push(
                        FindingKind::EnvRead,
                        span,
                        Some(s.value()),
                        format!("`{name}!` (read at compile time)"),
                        false,
                    );
                }
            }
            "asm" | "global_asm" | "naked_asm" if m.tokens.to_string().contains("syscall") => {
                self.push(
                    FindingKind::RawSyscall,
                    span,
                    None,
                    format!("inline `{name}!` with a syscall instruction"),
                    false,
                );
            }
            _ => {}
        }
        if let Some(v) = self.macro_constant(m) {
            let plain = self.plain_literal_names(&v);
            if let Some(t) = literals::network_target(&v).filter(|_| !plain) {
                self.push(
                    FindingKind::LiteralHost,
                    span,
                    Some(t),
                    format!("names a host or URL once `{name}!` joins it"),
                    true,
                );
            }
        }
        // Expressions inside macro calls (`println!("{}", fs::read(…))`) are code too.
        if let Ok(args) = m.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
            for a in &args {
                self.visit_expr(a);
            }
        }
    }
}

/// The format string of a `format!(…)` argument, shown as a target when the value is not
/// constant (`{home}/.ssh/id_rsa`).
fn format_template(e: &Expr) -> Option<String> {
    let Expr::Macro(m) = strip(e) else {
        return None;
    };
    if macro_name(&m.mac) != "format" {
        return None;
    }
    match m
        .mac
        .parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()?
        .first()?
    {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// `#[test]`, or a `cfg` that holds only under test (`cfg(test)`, `cfg(all(test, …))`).
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("test") {
            return true;
        }
        if !a.path().is_ident("cfg") {
            return false;
        }
        let t = quote_tokens(a).replace(' ', "");
        (t.contains("(test") || t.contains(",test"))
            && !t.contains("not(test")
            && !t.starts_with("cfg(any(")
    })
}

/// Whether `path`, relative to the directory of `file` (itself relative to the crate root),
/// leaves the crate.
fn escapes_crate(file: &str, path: &str) -> bool {
    if path.starts_with('/') || path.starts_with('~') {
        return true;
    }
    let mut depth: i64 = file.matches('/').count() as i64;
    for part in path.split('/') {
        match part {
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// How a hidden value was revealed, for the reason text.
fn undo(how: &str) -> String {
    if how == "join" {
        "its pieces are joined".into()
    } else {
        format!("{how}-decoded")
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Reference(r) => strip(&r.expr),
        Expr::Paren(p) => strip(&p.expr),
        _ => e,
    }
}

fn int_u8(e: &Expr) -> Option<u8> {
    match strip(e) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<u8>().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Byte(b), ..
        }) => Some(b.value()),
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            self.call(&p.path, &c.args, c.span());
            for a in &c.args {
                self.visit_expr(a);
            }
            return;
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        // A dangerous function used as a value (`.map(fs::remove_file)`).
        self.call(&p.path, &Punctuated::new(), p.span());
        visit::visit_expr_path(self, p);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if let Some(kind) = rules::classify_method(&m.method.to_string()) {
            let target = self.constant(&m.receiver).map(|(v, _)| v);
            self.push(
                kind,
                m.method.span(),
                target,
                format!("calls `.{}()`", m.method),
                false,
            );
        }
        if let Some((joined, true)) = self.constant(&Expr::MethodCall(m.clone()))
            && !self.plain_literal_names(&joined)
        {
            self.revealed(&joined, m.span(), "join");
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if matches!(b.op, syn::BinOp::BitXor(_) | syn::BinOp::BitXorAssign(_)) {
            self.xor_keys
                .extend(int_u8(&b.left).into_iter().chain(int_u8(&b.right)));
        }
        if let Some((joined, true)) = self.constant(&Expr::Binary(b.clone()))
            && !self.plain_literal_names(&joined)
        {
            self.revealed(&joined, b.span(), "join");
        }
        visit::visit_expr_binary(self, b);
    }

    fn visit_expr_array(&mut self, a: &'ast syn::ExprArray) {
        let bytes: Option<Vec<u8>> = a.elems.iter().map(int_u8).collect();
        if let Some(bytes) = bytes.filter(|b| b.len() >= 4) {
            self.byte_arrays.push((a.span(), bytes));
        }
        visit::visit_expr_array(self, a);
    }

    fn visit_lit(&mut self, l: &'ast Lit) {
        match l {
            Lit::Str(s) => self.literal(&s.value(), s.span()),
            Lit::ByteStr(b) => {
                self.byte_arrays.push((b.span(), b.value()));
                if let Ok(s) = String::from_utf8(b.value()) {
                    self.literal(&s, b.span());
                }
            }
            _ => {}
        }
    }

    fn visit_macro(&mut self, m: &'ast Macro) {
        self.mac(m);
        visit::visit_macro(self, m);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let path_attr = m
            .attrs
            .iter()
            .find(|a| a.path().is_ident("path"))
            .and_then(|a| match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            });
        if m.content.is_none() {
            self.modules.push(ModDecl {
                test: self.current_phase() == TargetKind::Test || is_test_only(&m.attrs),
                name: m.ident.to_string(),
                path_attr,
                inline_parents: self.inline.clone(),
            });
        }
        self.inline.push(m.ident.to_string());
        self.scoped(&m.attrs, |s| visit::visit_item_mod(s, m));
        self.inline.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.scoped(&f.attrs, |s| visit::visit_item_fn(s, f));
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.scoped(&i.attrs, |s| visit::visit_item_impl(s, i));
    }

    fn visit_foreign_item_fn(&mut self, f: &'ast syn::ForeignItemFn) {
        let name = f.sig.ident.to_string();
        if let Some(kind) = rules::classify_foreign(&name) {
            self.push(
                kind,
                f.sig.ident.span(),
                None,
                format!("declares foreign function `{name}`"),
                false,
            );
        }
        visit::visit_foreign_item_fn(self, f);
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        let text = quote_tokens(a);
        if text.contains("link_section")
            && [".init_array", ".ctors", ".preinit_array"]
                .iter()
                .any(|s| text.contains(s))
        {
            self.push(
                FindingKind::BeforeMain,
                a.span(),
                None,
                "code placed in a constructor section runs before main".into(),
                false,
            );
        }
        visit::visit_attribute(self, a);
    }
}

fn quote_tokens(a: &syn::Attribute) -> String {
    use quote::ToTokens;
    a.meta.to_token_stream().to_string()
}

#[cfg(test)]
mod tests;
