//! This process's memory as the kernel counts it: what the benchmarks and the soak report of
//! the cloud's footprint.

/// This process's resident set, from `/proc/self/status`.
pub fn resident_kib() -> anyhow::Result<u64> {
    status_kib("VmRSS:")
}

/// The most this process's resident set has been since it started.
pub fn peak_resident_kib() -> anyhow::Result<u64> {
    status_kib("VmHWM:")
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} line in /proc/self/status"))
}
