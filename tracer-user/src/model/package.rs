//! Package identity. In a resolved graph a name and a version name one package (cargo refuses
//! two packages of the same name and version from different sources), so that pair is the key
//! every stage uses; the source and cargo's package id come along for the reports.

use serde::{Deserialize, Serialize};

/// `name@version`: the key of a package in one build.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey {
    pub name: String,
    pub version: String,
}

impl PackageKey {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}

impl std::fmt::Display for PackageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// A package key written as `name@version` (the form cargo's `-p` takes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not `name@version`")]
pub struct BadPackageKey(pub String);

impl std::str::FromStr for PackageKey {
    type Err = BadPackageKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Package names never contain `@`; versions never do either.
        match s.split_once('@') {
            Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok(Self::new(n, v)),
            _ => Err(BadPackageKey(s.to_string())),
        }
    }
}

impl Serialize for PackageKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PackageKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A package as cargo describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `registry+…`, `path+file://…` or `git+…`.
    pub source: String,
    /// Cargo's package id.
    pub id: String,
}

impl Package {
    pub fn key(&self) -> PackageKey {
        PackageKey::new(&self.name, &self.version)
    }

    /// A local (path) package: the workspace's members and path dependencies.
    pub fn is_local(&self) -> bool {
        self.source.starts_with("path+")
    }

    /// Parses cargo's package id: `registry+https://…#serde@1.0.219`,
    /// `path+file:///dir/foo#0.1.0` (the name left out when it is the last path segment), or
    /// the pre-1.77 `serde 1.0.219 (registry+…)`. Hand-written: `cargo_metadata` keeps the id
    /// opaque, and this is the one place that reads its parts.
    pub fn from_id(id: &str) -> Option<Self> {
        if let Some((url, frag)) = id.rsplit_once('#') {
            let (name, version) = match frag.split_once('@') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => {
                    let path = url.split(['?', '#']).next().unwrap_or(url);
                    (
                        path.trim_end_matches('/').rsplit('/').next()?.to_string(),
                        frag.to_string(),
                    )
                }
            };
            return Some(Self {
                name,
                version,
                source: url.to_string(),
                id: id.to_string(),
            });
        }
        let mut parts = id.splitn(3, ' ');
        let name = parts.next()?.to_string();
        let version = parts.next()?.to_string();
        let source = parts
            .next()
            .map(|s| s.trim_matches(['(', ')']).to_string())
            .unwrap_or_default();
        Some(Self {
            name,
            version,
            source,
            id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_in_every_form() {
        let p =
            Package::from_id("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.219")
                .unwrap();
        assert_eq!(p.key(), PackageKey::new("serde", "1.0.219"));
        assert_eq!(
            p.source,
            "registry+https://github.com/rust-lang/crates.io-index"
        );
        let p = Package::from_id("path+file:///w/demo/crates/plain-util#2.0.0").unwrap();
        assert_eq!(p.key().to_string(), "plain-util@2.0.0");
        assert!(p.is_local());
        let p = Package::from_id("path+file:///w/demo/app#demo-app@0.1.0").unwrap();
        assert_eq!(p.key().to_string(), "demo-app@0.1.0");
        let p = Package::from_id("git+https://h/x.git?branch=main#abc@0.3.0").unwrap();
        assert_eq!(p.key().to_string(), "abc@0.3.0");
        let p = Package::from_id(
            "serde 1.0.219 (registry+https://github.com/rust-lang/crates.io-index)",
        )
        .unwrap();
        assert_eq!(p.key().to_string(), "serde@1.0.219");
        assert!(p.source.starts_with("registry+"));
    }

    #[test]
    fn keys_round_trip_through_their_text() {
        let k = PackageKey::new("fixture-app", "0.1.0+build.5");
        assert_eq!(k.to_string().parse::<PackageKey>(), Ok(k.clone()));
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            "\"fixture-app@0.1.0+build.5\""
        );
        assert!("noversion".parse::<PackageKey>().is_err());
    }
}
