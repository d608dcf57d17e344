//! Checks made before loading anything, so a missing privilege or kernel feature is reported as
//! such instead of as an opaque `EPERM` from deep inside the loader.

use std::path::Path;

/// What is missing on this machine.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "cargo-tracer needs privileges to load eBPF probes: run as root (e.g. `sudo -E cargo tracer …`) \
         or grant CAP_BPF+CAP_PERFMON (`setcap cap_bpf,cap_perfmon+ep $(which cargo-tracer)`); missing: {0}"
    )]
    Privileges(String),
    #[error(
        "this kernel exposes no BTF at /sys/kernel/btf/vmlinux (needs CONFIG_DEBUG_INFO_BTF=y); \
         cargo-tracer reads kernel struct offsets from it"
    )]
    NoBtf,
    #[error(
        "tracefs is not mounted at /sys/kernel/tracing and mounting it failed ({0}); mount it with \
         `mount -t tracefs tracefs /sys/kernel/tracing`"
    )]
    Tracefs(std::io::Error),
}

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Effective capability mask of this process, from /proc/self/status.
fn effective_caps() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// Names of the capabilities we lack (CAP_SYS_ADMIN stands in for both on older kernels).
pub fn missing_capabilities(caps: u64) -> Vec<&'static str> {
    let has = |c: u32| caps & (1 << c) != 0;
    if has(CAP_SYS_ADMIN) {
        return Vec::new();
    }
    let mut missing = Vec::new();
    if !has(CAP_BPF) {
        missing.push("CAP_BPF");
    }
    if !has(CAP_PERFMON) {
        missing.push("CAP_PERFMON");
    }
    missing
}

/// Runs every check; mounts tracefs if it is not mounted (tracepoint ids are read from it).
pub fn check() -> Result<(), PreflightError> {
    let missing = missing_capabilities(effective_caps());
    if !missing.is_empty() {
        return Err(PreflightError::Privileges(missing.join("+")));
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Err(PreflightError::NoBtf);
    }
    ensure_tracefs().map_err(PreflightError::Tracefs)
}

fn ensure_tracefs() -> std::io::Result<()> {
    let events = Path::new("/sys/kernel/tracing/events");
    if events.exists() || Path::new("/sys/kernel/debug/tracing/events").exists() {
        return Ok(());
    }
    let src = c"tracefs";
    let target = c"/sys/kernel/tracing";
    // SAFETY: valid NUL-terminated strings; no data argument.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            src.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_rules() {
        assert!(missing_capabilities(1 << CAP_SYS_ADMIN).is_empty());
        assert!(missing_capabilities((1 << CAP_BPF) | (1 << CAP_PERFMON)).is_empty());
        assert_eq!(missing_capabilities(1 << CAP_BPF), vec!["CAP_PERFMON"]);
        assert_eq!(missing_capabilities(0), vec!["CAP_BPF", "CAP_PERFMON"]);
    }
}
