//! The process's resident memory, sampled while a request is served.
//!
//! Servers run in the test process, so the process's `VmRSS` is theirs plus
//! the client's. `VmHWM` would be simpler but is the peak over the whole
//! process lifetime, which earlier tests in the same process have already
//! raised; sampling `VmRSS` measures only the interval of interest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the sampler reads `VmRSS`.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The process's resident set size in bytes, from `/proc/self/status`.
///
/// # Errors
/// When `/proc/self/status` cannot be read or has no `VmRSS` line, as on a
/// system other than Linux.
pub fn resident_bytes() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|error| format!("cannot read /proc/self/status: {error}"))?;
    parse_vm_rss(&status).ok_or_else(|| String::from("/proc/self/status has no VmRSS line"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// A thread recording the highest `VmRSS` seen until it is stopped.
pub(crate) struct PeakSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl PeakSampler {
    /// Starts sampling; the first sample is taken before this returns.
    pub(crate) fn start() -> Result<Self, String> {
        let peak = Arc::new(AtomicU64::new(resident_bytes()?));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name(String::from("soak-rss-sampler"))
            .spawn({
                let peak = Arc::clone(&peak);
                let stop = Arc::clone(&stop);
                move || {
                    while !stop.load(Ordering::Acquire) {
                        peak.fetch_max(resident_bytes()?, Ordering::AcqRel);
                        std::thread::sleep(SAMPLE_EVERY);
                    }
                    Ok(())
                }
            })
            .map_err(|error| format!("cannot start the RSS sampler: {error}"))?;
        Ok(Self {
            peak,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops sampling and returns the peak, including one last sample.
    pub(crate) fn finish(mut self) -> Result<u64, String> {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .map_err(|_| String::from("the RSS sampler panicked"))??;
        }
        Ok(self.peak.load(Ordering::Acquire).max(resident_bytes()?))
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl core::fmt::Debug for PeakSampler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeakSampler")
            .field("peak", &self.peak.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_status_line() {
        let status = "Name:\tx\nVmHWM:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn sees_an_allocation_that_is_touched() {
        let sampler = PeakSampler::start().expect("sampler");
        let before = resident_bytes().expect("rss");
        // Touched pages count towards VmRSS; 32 MiB stands well above noise.
        let block = vec![1u8; 32 * 1024 * 1024];
        std::thread::sleep(Duration::from_millis(50));
        let peak = sampler.finish().expect("peak");
        assert!(block.iter().all(|&byte| byte == 1));
        assert!(
            peak >= before + 24 * 1024 * 1024,
            "peak {peak} before {before}"
        );
    }
}
