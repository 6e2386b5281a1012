//! Sums over customers split into fixed chunks, spread over threads for large data, with
//! bit-identical results whatever the number of threads.

use std::num::NonZeroUsize;

/// Rows per chunk: large enough that a chunk's work (microseconds) dwarfs the bookkeeping,
/// small enough that rounding in a chunk's partial sum stays small.
const CHUNK: usize = 4096;

/// Below this many rows (a pass of a few milliseconds) one thread is used: starting others
/// costs little on an idle machine, but on a busy one a new thread can wait a whole time
/// slice to run, longer than the pass itself.
const PARALLEL_FROM: usize = 32 * CHUNK;

/// Threads to use when the caller leaves the choice to the machine (`0`).
pub(crate) fn resolve_threads(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    }
}

/// `Σ f(chunk)` over fixed chunks of `rows`, componentwise, on up to `threads` threads.
///
/// The chunk boundaries depend only on the number of rows, and the chunks' partial sums are
/// added in chunk order, so a fit gives bit-identical results whatever the number of threads
/// and however the threads are scheduled.
pub(crate) fn chunked_sum<T, F, const M: usize>(rows: &[T], threads: usize, f: F) -> [f64; M]
where
    T: Sync,
    F: Fn(&[T]) -> [f64; M] + Sync,
{
    let chunks: Vec<&[T]> = rows.chunks(CHUNK).collect();
    let mut partials = vec![[0.0; M]; chunks.len()];
    let threads = threads.clamp(1, chunks.len().max(1));
    if threads == 1 || rows.len() < PARALLEL_FROM {
        for (partial, chunk) in partials.iter_mut().zip(&chunks) {
            *partial = f(chunk);
        }
    } else {
        // Contiguous runs of chunks per thread; each thread writes only its own slots. The
        // calling thread takes the first run rather than idling while it waits.
        let per_thread = chunks.len().div_ceil(threads);
        let run = |slots: &mut [[f64; M]], work: &[&[T]]| {
            for (partial, chunk) in slots.iter_mut().zip(work) {
                *partial = f(chunk);
            }
        };
        std::thread::scope(|scope| {
            let mut runs = partials
                .chunks_mut(per_thread)
                .zip(chunks.chunks(per_thread));
            let first = runs.next();
            for (slots, work) in runs {
                scope.spawn(move || run(slots, work));
            }
            if let Some((slots, work)) = first {
                run(slots, work);
            }
        });
    }
    let mut total = [0.0; M];
    for partial in &partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_does_not_depend_on_the_thread_count() {
        let rows: Vec<f64> = (0..300_000)
            .map(|i| (f64::from(i) * 0.37).sin() * 1e3)
            .collect();
        let sum = |chunk: &[f64]| [chunk.iter().sum::<f64>(), chunk.len() as f64];
        let one = chunked_sum(&rows, 1, sum);
        assert_eq!(one[1], 300_000.0);
        for threads in [2, 3, 8] {
            assert_eq!(chunked_sum(&rows, threads, sum), one);
        }
        let direct: f64 = rows.iter().sum();
        assert!((one[0] - direct).abs() < 1e-9 * rows.len() as f64);
        assert_eq!(chunked_sum(&[] as &[f64], 2, sum), [0.0, 0.0]);
    }
}
