//! The default policies shipped in `policies/`, built into the binary so they are always there.

/// `(crate, policy text)`.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("autocfg", include_str!("../../../policies/autocfg.toml")),
    ("cc", include_str!("../../../policies/cc.toml")),
    (
        "version_check",
        include_str!("../../../policies/version_check.toml"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_policy_parses_and_names_its_crate() {
        for (name, text) in super::DEFAULTS {
            let p = crate::policy::config::parse(text, name, &[])
                .unwrap_or_else(|d| {
                    panic!(
                        "{name}: {}",
                        d.iter().map(|x| x.render(text)).collect::<String>()
                    )
                })
                .expect("a table");
            assert!(!p.rules.is_empty(), "{name} has no rules");
            assert!(
                p.rules
                    .iter()
                    .all(|r| r.krate == *name && !r.reason.is_empty()),
                "{name}"
            );
        }
    }
}
