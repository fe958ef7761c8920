//! Crash-safe saves: a save killed with SIGKILL at any moment leaves the old file or the new one,
//! complete, and never a mix.
//!
//! The real binary saves (`fwtopo new --force --product P FILE`, which goes through
//! `fwtopo::files::write_atomic`, the same path as `save_topology`), alternating between two products
//! so that every save changes the file. Each child is killed with SIGKILL (`Child::kill`) either at a
//! random moment of its life (most kills land before or after the write, which must leave the file
//! alone) or right after its temporary file appears plus a random few hundred microseconds (these
//! land inside the write: create, write, fsync, rename). After every kill:
//!
//! - the file parses with `from_ron` and is byte-for-byte the old text or the new one;
//! - the directory holds nothing but the file and temporaries named as `write_atomic` names them
//!   (`.NAME.PID.N.tmp`), each of a killed child (at most one of the child just killed) and each a
//!   prefix of the text that child was writing (a half-written temporary, never a half-written
//!   target);
//! - a child that ran to completion left no temporary at all: a save removes the temporaries of
//!   writers that are no longer running (here, the children killed before it).
//!
//! A kill between `create_new` and `rename` leaves its temporary behind; the test counts those (the
//! kills that landed inside the write) and fails unless there were some, so the claim above is
//! shown, not assumed. The files live under the target directory rather than /tmp, which may be a
//! tmpfs where `fsync` is free and the write too short to hit. At the end a complete save must remove
//! every leftover temporary of a dead writer and keep one of a running process.
//!
//! SIGKILL tests process crashes only. Power loss also depends on the `fsync` of the file and of the
//! directory that `write_atomic` does; no test here can cut the power.
//!
//! The randomness is a fixed-seed xorshift (override with `FWTOPO_CRASH_SEED=<u64>`), so a failure
//! names its seed and iteration. The run stops after 200 kills or about 12 s, whichever comes first.

use fwtopo::topology::from_ron;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fwtopo");
const PRODUCTS: [&str; 2] = ["plesk-automation", "mailstore-spe"];
const FILE: &str = "site.ron";
const KILLS: usize = 200;
const BUDGET: Duration = Duration::from_secs(12);
/// Enough kills to mean something even on a slow machine (one save lives ~30 ms here, so the
/// budget allows hundreds).
const MIN_KILLS: usize = 40;

/// xorshift64*: tiny, deterministic, good enough to spread kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `fwtopo` with an empty configuration directory, so only the embedded catalog is used.
fn fwtopo(config: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("FWTOPO_CONFIG_DIR", config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn save(config: &Path, product: &str, file: &Path) -> Command {
    let mut c = fwtopo(config);
    c.args(["new", "--force", "--product", product]).arg(file);
    c
}

/// The text `fwtopo new --product P` writes, taken from its standard output.
fn starter_text(config: &Path, product: &str) -> String {
    let out = fwtopo(config)
        .args(["new", "--product", product])
        .stdout(Stdio::piped())
        .output()
        .expect("fwtopo runs");
    assert!(
        out.status.success(),
        "fwtopo new --product {product} failed"
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Directory entries other than the target file.
fn others(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != FILE))
        .collect();
    v.sort();
    v
}

/// The writer's process id when a name is `write_atomic`'s temporary for FILE (`.FILE.PID.N.tmp`).
fn temporary_pid(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix(&format!(".{FILE}."))?
        .strip_suffix(".tmp")?;
    let (pid, n) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(n))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether a name is `write_atomic`'s temporary for FILE written by process `pid`.
fn is_temporary_of(name: &str, pid: u32) -> bool {
    temporary_pid(name) == Some(pid)
}

/// Spins until a temporary of `child` appears or the child exits; true when one appeared.
fn wait_for_temporary(child: &mut Child, dir: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid = child.id();
    while Instant::now() < deadline {
        let seen = fs::read_dir(dir)
            .expect("readable directory")
            .filter_map(Result::ok)
            .any(|e| is_temporary_of(&e.file_name().to_string_lossy(), pid));
        if seen {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
    }
    false
}

#[derive(Debug, Default)]
struct Tally {
    kept_old: usize,
    got_new: usize,
    /// Kills that left a half-written temporary: the kill landed inside the write.
    mid_write: usize,
    /// Aimed kills: the child's temporary had appeared, the child was still running.
    aimed: usize,
    /// Children that had already exited when the kill came.
    exited_first: usize,
    /// Leftover temporaries a later complete save removed.
    cleaned: usize,
}

#[test]
fn sigkill_during_saves_leaves_old_or_new_file() {
    let seed = std::env::var("FWTOPO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0x5EED_F00D_CAFE_0005)
        | 1;
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary directory");
    let config = tmp.path().join("config");
    let dir = tmp.path().join("site");
    fs::create_dir_all(&config).unwrap();
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join(FILE);

    let texts = PRODUCTS.map(|p| starter_text(&config, p));
    assert_ne!(texts[0], texts[1], "the two saves must differ");
    let parsed = texts.clone().map(|t| from_ron(&t).expect("starter loads"));

    // The first save runs to completion: from here on there is always an old version.
    let status = save(&config, PRODUCTS[0], &file).status().unwrap();
    assert!(status.success());
    assert_eq!(fs::read_to_string(&file).unwrap(), texts[0]);

    // How long one save lives, so random kill moments cover a whole life and a little after.
    let start = Instant::now();
    for p in PRODUCTS.iter().rev().chain(PRODUCTS.iter().rev()) {
        assert!(save(&config, p, &file).status().unwrap().success());
    }
    let life = start.elapsed() / 4;

    let began = Instant::now();
    let mut tally = Tally::default();
    let mut kills = 0;
    // Killed children by process id, with the text each was writing, for their leftovers.
    let mut killed: HashMap<u32, usize> = HashMap::new();
    while kills < KILLS && began.elapsed() < BUDGET {
        let old = fs::read_to_string(&file).expect("the file is always there");
        let current = texts
            .iter()
            .position(|t| *t == old)
            .unwrap_or_else(|| panic!("seed {seed}, kill {kills}: file is neither version"));
        let next = 1 - current;
        let targeted = rng.below(5) < 2;
        let delay_us = if targeted {
            rng.below(800)
        } else {
            rng.below(life.as_micros() as u64 + 10_000)
        };

        let leftovers = others(&dir).len();
        let mut child = save(&config, PRODUCTS[next], &file)
            .spawn()
            .expect("spawn fwtopo");
        let seen = targeted && wait_for_temporary(&mut child, &dir);
        std::thread::sleep(Duration::from_micros(delay_us));
        let exited = child.try_wait().unwrap();
        match exited {
            Some(_) => tally.exited_first += 1,
            None if seen => tally.aimed += 1,
            None => {}
        }
        // SIGKILL; an already-exited (not yet reaped) child is not an error.
        let _ = child.kill();
        child.wait().expect("reap the child");
        killed.insert(child.id(), next);
        kills += 1;

        let at = format!(
            "seed {seed}, kill {kills} ({} after {delay_us} us)",
            if targeted { "temporary seen" } else { "spawn" }
        );
        let now = fs::read(&file).unwrap_or_else(|e| panic!("{at}: file gone: {e}"));
        let now = String::from_utf8(now).unwrap_or_else(|_| panic!("{at}: not UTF-8"));
        let which = if now == texts[current] {
            tally.kept_old += 1;
            current
        } else if now == texts[next] {
            tally.got_new += 1;
            next
        } else {
            panic!("{at}: file is neither the old nor the new version:\n{now}");
        };
        assert_eq!(
            from_ron(&now).as_ref(),
            Ok(&parsed[which]),
            "{at}: file does not load"
        );

        let stray = others(&dir);
        let mut own = 0;
        for p in &stray {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let writer = temporary_pid(&name).and_then(|pid| killed.get(&pid).map(|t| (pid, *t)));
            let Some((pid, text)) = writer else {
                panic!("{at}: unexpected file {name} (want .{FILE}.PID.N.tmp of a killed child)");
            };
            let partial = fs::read(p).unwrap();
            assert!(
                texts[text].as_bytes().starts_with(&partial),
                "{at}: temporary {name} is not a prefix of the text its writer wrote"
            );
            own += usize::from(pid == child.id());
        }
        assert!(
            own <= 1,
            "{at}: more than one temporary of one save: {stray:?}"
        );
        tally.mid_write += own;
        if exited.is_some_and(|s| s.success()) {
            // A save that ran to the end removed what the killed children left.
            assert!(stray.is_empty(), "{at}: a complete save left {stray:?}");
            tally.cleaned += leftovers;
        }
    }

    // Whatever the kills left, one complete save removes, but not the temporary of a running
    // process (this test pretends to be one mid-write).
    let left = others(&dir).len();
    let running = dir.join(format!(".{FILE}.{}.0.tmp", std::process::id()));
    fs::write(&running, b"(").unwrap();
    assert!(
        save(&config, PRODUCTS[0], &file)
            .status()
            .unwrap()
            .success()
    );
    let after = others(&dir);
    // Who holds the ids of the leftovers' writers now, to tell a sweep that missed a dead writer
    // from one that rightly left a live one.
    let holders: Vec<String> = after
        .iter()
        .filter_map(|p| temporary_pid(&p.file_name()?.to_string_lossy()))
        .map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let tgid = fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("Tgid:"))
                .unwrap_or_default()
                .to_string();
            format!("{pid}: {tgid} {}", stat.trim())
        })
        .collect();
    assert_eq!(
        after,
        vec![running.clone()],
        "seed {seed}: after a complete save; the writers' ids now: {holders:#?}"
    );
    tally.cleaned += left;

    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "crash_safe: seed {seed}, {kills} kills in {:.1}s (one save lives ~{} ms): old kept {}, new complete {}, \
         killed mid-write (temporary left) {}, aimed at a live temporary {}, exited before the kill {}, \
         leftover temporaries removed by a later save {}",
        began.elapsed().as_secs_f64(),
        life.as_millis(),
        tally.kept_old,
        tally.got_new,
        tally.mid_write,
        tally.aimed,
        tally.exited_first,
        tally.cleaned
    );
    // The loop stops at the time budget: a machine too slow for enough kills proves too little.
    assert!(
        kills >= MIN_KILLS,
        "seed {seed}: only {kills} kills in {BUDGET:?}: {tally:?}"
    );
    // Both outcomes must occur, or the kills were all too early or all too late to prove anything.
    assert!(tally.kept_old > 0 && tally.got_new > 0, "{tally:?}");
    // And some kills must have landed inside the write (between create and rename), or the test
    // never saw the moment the claim is about.
    assert!(
        tally.mid_write > 0,
        "seed {seed}: no kill landed while a temporary existed: {tally:?}"
    );
}
