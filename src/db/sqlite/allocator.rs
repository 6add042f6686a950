//! SQLite's memory allocator.
//!
//! SQLite allocates with the C library's `malloc` unless told otherwise,
//! and sqlx hands every column value of every row it reads to Rust as a
//! copy made with it (`sqlite3_value_dup`) on the connection's thread,
//! freed later on whichever thread the request ran on. In a fan-out glibc's
//! `malloc`, `free` and `malloc_consolidate` took about 8 % of the server's
//! CPU. mimalloc, Rust's allocator here, frees across threads cheaply.

use std::{
    ffi::{c_int, c_void},
    sync::Once,
};

use libmimalloc_sys as mi;
use libsqlite3_sys as sqlite;

unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
    // SAFETY: any size; SQLite treats null as out of memory.
    unsafe { mi::mi_malloc(n.max(0) as usize) }
}

unsafe extern "C" fn free(p: *mut c_void) {
    // SAFETY: SQLite frees only what `malloc`/`realloc` gave it.
    unsafe { mi::mi_free(p) }
}

unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as for `free`; SQLite never asks for a size of 0 here.
    unsafe { mi::mi_realloc(p, n.max(0) as usize) }
}

unsafe extern "C" fn size(p: *mut c_void) -> c_int {
    // SAFETY: as for `free`. SQLite allocations stay under 2^31 bytes.
    unsafe { mi::mi_usable_size(p) as c_int }
}

unsafe extern "C" fn roundup(n: c_int) -> c_int {
    // SAFETY: a pure function of the size.
    unsafe { mi::mi_good_size(n.max(0) as usize) as c_int }
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    sqlite::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

/// Must run before SQLite's first use in the process, which is why
/// [`super::connect`] calls it first; later it changes nothing and
/// SQLite keeps the allocator it started with.
pub fn use_mimalloc() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = sqlite::sqlite3_mem_methods {
            xMalloc: Some(malloc),
            xFree: Some(free),
            xRealloc: Some(realloc),
            xSize: Some(size),
            xRoundup: Some(roundup),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to methods that
        // SQLite copies before returning; it fails harmlessly
        // (SQLITE_MISUSE) once SQLite has been initialized.
        let rc = unsafe {
            sqlite::sqlite3_config(
                sqlite::SQLITE_CONFIG_MALLOC,
                &methods as *const sqlite::sqlite3_mem_methods,
            )
        };
        if rc != sqlite::SQLITE_OK {
            tracing::warn!(rc, "SQLite keeps the C library's allocator");
        }
    });
}
