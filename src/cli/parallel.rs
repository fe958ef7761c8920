//! Rendering a site's scripts on every core while the main thread writes them.
//!
//! Rendering is pure and each script independent, so on a 2-core machine two workers render
//! while the caller writes what they finish; a bounded queue keeps only a few scripts in memory at
//! a time however large the site.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Renders `render(i)` for every `i < count` on worker threads and hands each result to `take`
/// on the calling thread, in the order they finish. Stops at the first error of `take`.
pub fn render_each<E>(
    count: usize,
    render: impl Fn(usize) -> String + Sync,
    mut take: impl FnMut(usize, String) -> Result<(), E>,
) -> Result<(), E> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(count);
    if workers <= 1 {
        for i in 0..count {
            take(i, render(i))?;
        }
        return Ok(());
    }
    // Scripts travel in small batches: a hand-over per script costs a thread wake-up each.
    const BATCH: usize = 16;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<Vec<(usize, String)>>(2 * workers);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, render) = (&next, &render);
            scope.spawn(move || {
                loop {
                    let start = next.fetch_add(BATCH, Ordering::Relaxed);
                    if start >= count {
                        break;
                    }
                    let batch = (start..count.min(start + BATCH))
                        .map(|i| (i, render(i)))
                        .collect();
                    // A closed queue means the caller stopped at an error: stop too.
                    if tx.send(batch).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Dropping the receiver on an error makes every worker's next send fail.
        for batch in rx {
            for (i, script) in batch {
                take(i, script)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_is_rendered_once() {
        let mut seen = vec![0; 1000];
        render_each(
            1000,
            |i| i.to_string(),
            |i, s| {
                assert_eq!(s, i.to_string());
                seen[i] += 1;
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn an_error_stops_the_work() {
        let rendered = AtomicUsize::new(0);
        let mut taken = 0;
        let r = render_each(
            100_000,
            |i| {
                rendered.fetch_add(1, Ordering::Relaxed);
                i.to_string()
            },
            |_, _| {
                taken += 1;
                if taken == 3 { Err("full disk") } else { Ok(()) }
            },
        );
        assert_eq!(r, Err("full disk"));
        assert_eq!(taken, 3);
        assert!(rendered.load(Ordering::Relaxed) < 100_000);
    }
}
