//! How every Junction process sets up its memory: mimalloc, its allocator
//! (declared in `main.rs`; SQLite's allocations go to it too, see
//! `db::sqlite_allocator`), its purge delay, and transparent huge pages.

use libmimalloc_sys as mi;

/// mimalloc 3's `mi_option_purge_delay`, which `libmimalloc-sys` does not
/// name: its place in `mi_option_t` (the test below checks it against the
/// option's documented default).
const PURGE_DELAY: mi::mi_option_t = 15;

/// How long, in milliseconds, freed memory stays with the process before
/// mimalloc returns it to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// Sets mimalloc's `purge_delay` to [`PURGE_DELAY_MS`] unless the operator
/// set `MIMALLOC_PURGE_DELAY` (which mimalloc reads before `main`).
///
/// Its default, 1 s, kept a second of a fan-out's churn resident; 100 ms
/// still keeps memory for reuse between bursts. Alternating builds on the
/// twenty-second machine (6 s runs, SQLite): the server's RSS peak in the
/// delivery benchmark 146.6, 145.4, 139.9 and 150.3 → 138.8, 126.3,
/// 129.7 and 127.5 MiB, fan-out within the noise (7,970 and 8,076 →
/// 8,168 and 8,399 deliveries/s in the first two pairs); 10 ms cost
/// throughput (fan-out 6,133 and 7,404).
pub fn purge_freed_memory_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option, which mimalloc reads atomically.
        unsafe { mi::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// Turns transparent huge pages off for this process. mimalloc asks for
/// them on its arenas and returns idle memory to the OS in 64 KiB steps; on
/// a huge-page-backed arena the next touch of such a range faulted in and
/// zeroed a whole 2 MiB page (4 % of the server's CPU samples under load),
/// and resident memory counted whole huge pages. Without them the SQLite
/// server's peak RSS in the delivery benchmark fell from 226–244 to
/// 157–165 MiB and a worker's from 81–87 to 60–65 MiB, at the same
/// throughput.
/// mimalloc's own switch (`MIMALLOC_ALLOW_THP=0`) is read before `main`,
/// so it could only be an environment variable; the kernel flag also
/// covers mappings made before this call.
pub fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no
    // memory of ours; failing (an old kernel) leaves THP as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_option_it_names() {
        // SAFETY: reads one integer option.
        let default = unsafe { mi::mi_option_get(PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // mimalloc 3's documented default for purge_delay; another
            // option in this place would have another.
            assert_eq!(default, 1000);
        }
        purge_freed_memory_sooner();
        let set = unsafe { mi::mi_option_get(PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(set, PURGE_DELAY_MS);
        }
    }
}
