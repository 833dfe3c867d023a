//! The real (wall) clock for measuring the checkers inside a simulation. madsim overrides libc's
//! `clock_gettime` there, so `std::time::Instant` reads simulated time; this asks the kernel
//! directly. Only `bench` uses it, and nothing it returns reaches the trace.

/// Nanoseconds on the kernel's monotonic clock (0 where the raw call is unavailable).
#[cfg(target_os = "linux")]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: SYS_clock_gettime writes one timespec through the pointer we own.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clock_gettime,
            libc::CLOCK_MONOTONIC,
            &mut ts as *mut libc::timespec,
        )
    };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
pub fn monotonic_ns() -> u64 {
    0
}
