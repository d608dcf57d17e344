//! The names reports give a build's directories (`$OUT_DIR/gen.rs`, `$HOME/.ssh/id_rsa`), so a
//! report reads the same on every machine and a policy can name them.

use super::names::named_enum;

/// A directory of the build, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    OutDir,
    CargoManifestDir,
    TargetDir,
    Workspace,
    RepoRoot,
    CargoHome,
    Home,
    TmpDir,
    /// Toolchain directories (rustup's home, the sysroot of each toolchain seen running).
    Sysroot,
    /// The workspace's and the working directory's parents (where cargo looks for config).
    ConfigDir,
    /// A build script's own build directories.
    BuildDir,
    /// Every package's directory (what cargo reads).
    Packages,
}

named_enum!(Placeholder, "a placeholder" {
    OutDir => "$OUT_DIR",
    CargoManifestDir => "$CARGO_MANIFEST_DIR",
    TargetDir => "$TARGET_DIR",
    Workspace => "$WORKSPACE",
    RepoRoot => "$REPO_ROOT",
    CargoHome => "$CARGO_HOME",
    Home => "$HOME",
    TmpDir => "$TMPDIR",
    Sysroot => "$SYSROOT",
    ConfigDir => "$CONFIG_DIR",
    BuildDir => "$BUILD_DIR",
    Packages => "$PACKAGES",
});

impl Placeholder {
    /// The placeholders that appear in reported targets (and so in policies); the others only
    /// decide what is routine.
    pub const IN_TARGETS: &'static [Placeholder] = &[
        Placeholder::OutDir,
        Placeholder::CargoManifestDir,
        Placeholder::TargetDir,
        Placeholder::Workspace,
        Placeholder::RepoRoot,
        Placeholder::CargoHome,
        Placeholder::Home,
        Placeholder::TmpDir,
    ];
}
