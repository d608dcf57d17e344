//! Who the traced command runs as. Started through `sudo`, the tracer itself stays root (it
//! needs the probes) but the command runs as the invoking user, with their groups and `HOME`:
//! a build must not change owner or behaviour because it was traced.

use std::ffi::{CStr, CString};

/// A user to switch to before exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<libc::gid_t>,
    pub name: String,
    pub home: String,
}

/// Why the invoking user could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("SUDO_UID/SUDO_GID are set but not numbers ({0})")]
    BadSudoVars(String),
    #[error(
        "{0} is set without {1}: cannot tell whom sudo ran this for (set both, or neither, or pass --as-root)"
    )]
    HalfSudo(&'static str, &'static str),
    #[error("no passwd entry for uid {0}")]
    NoUser(u32),
    #[error("no group named `{0}`")]
    NoGroup(String),
}

/// The identity to run the command as: the sudo caller, unless `as_root` or not under sudo.
pub fn for_command(as_root: bool) -> Result<Option<Identity>, IdentityError> {
    // SAFETY: geteuid has no preconditions.
    if as_root || unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let (uid, gid) = match (std::env::var("SUDO_UID"), std::env::var("SUDO_GID")) {
        (Ok(u), Ok(g)) => (u, g),
        (Err(_), Err(_)) => return Ok(None),
        (Ok(_), Err(_)) => return Err(IdentityError::HalfSudo("SUDO_UID", "SUDO_GID")),
        (Err(_), Ok(_)) => return Err(IdentityError::HalfSudo("SUDO_GID", "SUDO_UID")),
    };
    let bad = || IdentityError::BadSudoVars(format!("SUDO_UID={uid} SUDO_GID={gid}"));
    let uid: u32 = uid.parse().map_err(|_| bad())?;
    let gid: u32 = gid.parse().map_err(|_| bad())?;
    if uid == 0 {
        return Ok(None);
    }
    lookup(uid, Some(gid)).map(Some)
}

/// The id of the group named `name` (the daemon's `--group`).
pub fn group_id(name: &str) -> Result<u32, IdentityError> {
    let cname = CString::new(name).map_err(|_| IdentityError::NoGroup(name.into()))?;
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    // SAFETY: group is plain data; all-zero is a valid (empty) value.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: buffers are valid for the given sizes; `out` is set only on success.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return Err(IdentityError::NoGroup(name.into()));
    }
    Ok(gr.gr_gid)
}

/// The user `uid` with their primary group and groups from the passwd and group files (the
/// owner of a process the daemon saw, whose workspace it reads as them).
pub fn of_uid(uid: u32) -> Result<Identity, IdentityError> {
    lookup(uid, None)
}

/// `uid` with group `gid`, or with the user's primary group when `None`.
fn lookup(uid: u32, gid: Option<u32>) -> Result<Identity, IdentityError> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is a valid (empty) value.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the given sizes; `out` is set only on success.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return Err(IdentityError::NoUser(uid));
    }
    // SAFETY: getpwuid_r succeeded, so these point to NUL-terminated strings in `buf`.
    let name = unsafe { CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: as above.
    // As trace text (`events::text`): a home with any bytes compares with the trace's paths.
    let home = crate::events::text::from_bytes(unsafe { CStr::from_ptr(pw.pw_dir) }.to_bytes());
    let gid = gid.unwrap_or(pw.pw_gid);
    let cname = CString::new(name.clone()).map_err(|_| IdentityError::NoUser(uid))?;
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut n = groups.len() as libc::c_int;
    // SAFETY: `groups` holds `n` entries; on overflow n reports the size needed.
    if unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) } < 0 {
        groups.resize(n.max(0) as usize, 0);
        // SAFETY: `groups` now holds the `n` entries needed.
        unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
    }
    groups.truncate(n.max(0) as usize);
    Ok(Identity {
        uid,
        gid,
        groups,
        name,
        home,
    })
}

/// Switches the calling (just forked) process to `id`. Async-signal-safe: no allocation.
pub fn switch_to(id: &Identity) -> std::io::Result<()> {
    // SAFETY: plain syscalls on values prepared before fork.
    unsafe {
        if libc::setgroups(id.groups.len(), id.groups.as_ptr()) != 0
            || libc::setgid(id.gid) != 0
            || libc::setuid(id.uid) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_user_resolves() {
        let id = lookup(0, Some(0)).unwrap();
        assert_eq!(of_uid(0).unwrap().gid, 0);
        assert_eq!(group_id("root").unwrap(), 0);
        assert!(group_id("no-such-group-here").is_err());
        assert_eq!(id.name, "root");
        assert!(id.groups.contains(&0));
    }
}
