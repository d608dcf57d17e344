//! The tracer's own cost as a user measuring it sees it: peak resident set and CPU time, and how
//! much of that resident set is the probes' ring buffers. The kernel maps each data page of a
//! BPF ring buffer twice in a row (a record that wraps around then reads as one piece), so a
//! 64 MiB ring adds 128 MiB to RSS while the kernel holds 64 MiB for it; what is left over is
//! the tracer's own memory, the part that could grow with a build.

/// This process's peak RSS (KiB) and CPU time (user + system, ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub max_rss_kib: u64,
    pub cpu_ms: u64,
}

pub fn usage() -> Usage {
    // SAFETY: getrusage fills the struct we pass; all-zero is a valid value of it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Usage {
            max_rss_kib: 0,
            cpu_ms: 0,
        };
    }
    let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
    Usage {
        max_rss_kib: ru.ru_maxrss as u64,
        cpu_ms: ms(ru.ru_utime) + ms(ru.ru_stime),
    }
}

/// What the BPF maps mapped into this process (the ring buffers) count in its RSS now, in KiB:
/// the whole process's, so the rings of one session in a CLI run (tests that run sessions side by
/// side in one process see their sum).
pub fn ring_mappings_kib() -> u64 {
    std::fs::read_to_string("/proc/self/smaps")
        .map(|s| bpf_map_rss_kib(&s))
        .unwrap_or(0)
}

/// Sums the `Rss:` lines of the `anon_inode:bpf-map` mappings in an smaps text (a kernel format
/// of a few lines per mapping; a parser crate would be more than the two lines it takes).
fn bpf_map_rss_kib(smaps: &str) -> u64 {
    let mut in_map = false;
    let mut kib = 0;
    for line in smaps.lines() {
        // A mapping's header: `start-end perms offset dev inode [name]`, the only lines
        // whose first field holds a '-'.
        if line
            .split_whitespace()
            .next()
            .is_some_and(|f| f.contains('-'))
        {
            in_map = line.trim_end().ends_with("anon_inode:bpf-map");
        } else if in_map && let Some(v) = line.strip_prefix("Rss:") {
            kib += v
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .unwrap_or(0);
        }
    }
    kib
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bpf_maps_mappings_are_summed() {
        let smaps = "\
55d0c0a00000-55d0c0b00000 r-xp 00000000 fe:00 12 /usr/bin/cargo-tracer
Size:               1024 kB
Rss:                 900 kB
7f44ed780000-7f44f1781000 r--s 00001000 00:10 1038                       anon_inode:bpf-map
Size:              65540 kB
Rss:               65540 kB
Pss:               32772 kB
7f44fa4a3000-7f44fa4a4000 rw-s 00000000 00:10 1038                       anon_inode:bpf-map
Rss:                   4 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  12 kB
";
        assert_eq!(bpf_map_rss_kib(smaps), 65544);
    }

    #[test]
    fn this_process_has_a_peak_and_maps_no_ring() {
        assert!(usage().max_rss_kib > 0);
        assert_eq!(ring_mappings_kib(), 0);
    }
}
