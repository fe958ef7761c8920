//! Whether the process that wrote a temporary may still be writing it.
//!
//! A save sweeps the temporaries its killed predecessors left (`.NAME.PID.N.tmp`) but must leave a
//! running writer's alone. "PID exists" is not enough on a busy machine: Linux reuses process ids
//! (32,768 by default), and `/proc/ID` also answers for a thread's id. A leftover whose pid was
//! taken by a thread, or by a process started after the leftover was last written, would stay
//! forever (seen in CI: three killed writers' temporaries outlived a later save).

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Leeway between the clocks compared (boot time in whole seconds, start in clock ticks).
const CLOCK_LEEWAY: Duration = Duration::from_secs(2);

/// Whether process `pid` may be the writer of a file last modified at `written`: `Some(false)`
/// when no process has that id, when the id is a thread's, or when the process started after the
/// file was written; `None` where there is no `/proc` to ask (other systems), so callers leave
/// alone what they cannot judge. Anything unreadable counts as alive.
pub fn writer_alive(pid: u32, written: Option<SystemTime>) -> Option<bool> {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return None;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(false),
        Err(_) => return Some(true),
    };
    // A thread's id answers under /proc too (it is not listed, but it opens).
    if thread_group(pid).is_some_and(|tgid| tgid != pid) {
        return Some(false);
    }
    match (written, started(&stat)) {
        (Some(written), Some(started)) if started > written + CLOCK_LEEWAY => Some(false),
        _ => Some(true),
    }
}

/// The process a task id belongs to (`Tgid` in `/proc/ID/status`).
fn thread_group(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// When the process started: field 22 of `/proc/ID/stat` (clock ticks since boot) plus the boot
/// time from `/proc/stat`.
fn started(stat: &str) -> Option<SystemTime> {
    // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let hz = clock_ticks()?;
    let since_boot = Duration::from_millis(ticks.checked_mul(1000)? / hz);
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(boot) + since_boot)
}

/// Clock ticks per second, as `/proc` counts them.
#[cfg(target_os = "linux")]
fn clock_ticks() -> Option<u64> {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|&h| h > 0)
}

#[cfg(not(target_os = "linux"))]
fn clock_ticks() -> Option<u64> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Larger than any pid_max Linux allows (2^22), so never a running process.
    const NO_SUCH_PID: u32 = 99_999_999;

    #[test]
    fn a_running_process_that_wrote_it_is_alive_and_a_missing_one_is_not() {
        let now = SystemTime::now();
        assert_eq!(writer_alive(std::process::id(), Some(now)), Some(true));
        assert_eq!(writer_alive(std::process::id(), None), Some(true));
        assert_eq!(writer_alive(NO_SUCH_PID, Some(now)), Some(false));
    }

    #[test]
    fn a_threads_id_is_not_a_writer() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let tid = std::fs::read_link("/proc/thread-self")
                .ok()
                .and_then(|p| p.file_name()?.to_str()?.parse::<u32>().ok());
            tx.send(tid).unwrap();
            let _ = done_rx.recv();
        });
        let tid = rx
            .recv()
            .unwrap()
            .expect("a thread id from /proc/thread-self");
        assert_ne!(tid, std::process::id());
        assert!(Path::new(&format!("/proc/{tid}")).exists(), "it answers");
        assert_eq!(writer_alive(tid, Some(SystemTime::now())), Some(false));
        done_tx.send(()).unwrap();
        worker.join().unwrap();
    }

    #[test]
    fn a_process_started_after_the_file_was_written_is_not_its_writer() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let long_ago = SystemTime::now() - Duration::from_secs(600);
        let verdicts = (
            writer_alive(pid, Some(long_ago)),
            writer_alive(pid, Some(SystemTime::now())),
        );
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(verdicts, (Some(false), Some(true)));
    }
}
