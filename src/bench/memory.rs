//! Peak memory of this process, from Linux's `/proc/self/status` (`VmHWM`, the resident-set high
//! water mark), reset before each measured run through `/proc/self/clear_refs`. Costs nothing
//! while the run goes on; `None` where `/proc` does not offer it.

/// Resets the resident-set high water mark to the current resident set.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The resident-set high water mark since the last reset, in MiB.
pub fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
