//! `use` declarations, so `use std::fs as f; f::remove_file(…)` resolves to
//! `std::fs::remove_file`, and glob imports offer their prefix for bare names.

use std::collections::HashMap;

use syn::{Item, UseTree, visit::Visit};

/// What the names of a file stand for.
#[derive(Debug, Default)]
pub struct Imports {
    /// Local name → full path (`f` → `std::fs`, `Command` → `std::process::Command`).
    aliases: HashMap<String, String>,
    /// Prefixes imported with `*`.
    globs: Vec<String>,
}

impl Imports {
    /// Collects every `use` (and `extern crate … as …`) in the file, at any depth. Names are
    /// merged across scopes: a scanner that over-resolves finds more, never less.
    pub fn from_file(file: &syn::File) -> Self {
        let mut c = Collector(Self::default());
        c.visit_file(file);
        c.0
    }

    fn add(&mut self, prefix: &str, tree: &UseTree) {
        let join = |p: &str, s: &str| {
            if p.is_empty() {
                s.to_string()
            } else {
                format!("{p}::{s}")
            }
        };
        match tree {
            UseTree::Path(p) => self.add(&join(prefix, &p.ident.to_string()), &p.tree),
            UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.rsplit("::").next() {
                        self.aliases.insert(last.to_string(), prefix.to_string());
                    }
                } else {
                    self.aliases.insert(name.clone(), join(prefix, &name));
                }
            }
            UseTree::Rename(r) => {
                let full = if r.ident == "self" {
                    prefix.to_string()
                } else {
                    join(prefix, &r.ident.to_string())
                };
                self.aliases.insert(r.rename.to_string(), full);
            }
            UseTree::Glob(_) => self.globs.push(prefix.to_string()),
            UseTree::Group(g) => {
                for t in &g.items {
                    self.add(prefix, t);
                }
            }
        }
    }

    /// Full paths `segments` may stand for, most likely first.
    pub fn resolve(&self, segments: &[String]) -> Vec<String> {
        let Some(first) = segments.first() else {
            return Vec::new();
        };
        let rest = &segments[1..];
        let with = |head: &str| {
            let mut v = vec![head.to_string()];
            v.extend(rest.iter().cloned());
            v.join("::")
        };
        if matches!(first.as_str(), "crate" | "self" | "super" | "Self") {
            return Vec::new();
        }
        if let Some(full) = self.aliases.get(first) {
            return vec![with(full)];
        }
        let mut out = vec![segments.join("::")];
        out.extend(
            self.globs
                .iter()
                .map(|g| format!("{g}::{}", segments.join("::"))),
        );
        out
    }
}

struct Collector(Imports);

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, i: &'ast Item) {
        match i {
            Item::Use(u) => self.0.add("", &u.tree),
            Item::ExternCrate(e) => {
                if let Some((_, rename)) = &e.rename {
                    self.0
                        .aliases
                        .insert(rename.to_string(), e.ident.to_string());
                }
            }
            _ => {}
        }
        syn::visit::visit_item(self, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(src: &str, path: &str) -> Vec<String> {
        let file = syn::parse_file(src).unwrap();
        let segs: Vec<String> = path.split("::").map(str::to_string).collect();
        Imports::from_file(&file).resolve(&segs)
    }

    #[test]
    fn aliases_renames_groups_and_globs() {
        assert_eq!(
            resolve("use std::fs as f;", "f::remove_file"),
            vec!["std::fs::remove_file"]
        );
        assert_eq!(
            resolve("use std::{fs, process::Command};", "Command::new"),
            vec!["std::process::Command::new"]
        );
        assert_eq!(
            resolve("use std::fs::remove_file as rm;", "rm"),
            vec!["std::fs::remove_file"]
        );
        assert_eq!(
            resolve("use std::fs::{self as files};", "files::write"),
            vec!["std::fs::write"]
        );
        assert!(
            resolve("use std::fs::*;", "remove_file").contains(&"std::fs::remove_file".to_string())
        );
        assert_eq!(
            resolve("fn f() { use std::net::TcpStream; }", "TcpStream::connect"),
            vec!["std::net::TcpStream::connect"]
        );
        assert_eq!(
            resolve("extern crate reqwest as r;", "r::get"),
            vec!["reqwest::get"]
        );
        assert!(resolve("", "crate::x::y").is_empty());
    }
}
