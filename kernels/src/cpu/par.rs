//! Multithreading for the large cases: a result buffer built in chunks, the
//! chunks filled in parallel on rayon's pool when the result is large and
//! the pool has more than one thread, and in order on the calling thread
//! otherwise. `RAYON_NUM_THREADS=1` turns it off.

use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

/// Results with fewer elements than this are built on the calling thread:
/// below it the work (tens of microseconds) is not worth a hand-off to the
/// pool.
pub const PAR_MIN_ELEMS: usize = 1 << 17;

/// Whether a result of `elems` elements is built in parallel.
pub fn parallel(elems: usize) -> bool {
    elems >= PAR_MIN_ELEMS && rayon::current_num_threads() > 1
}

/// Appends to one chunk of a result under construction; the chunk must be
/// filled exactly (checked).
pub struct Sink<'a, T> {
    buf: &'a mut [MaybeUninit<T>],
    len: usize,
}

impl<T: Copy> Sink<'_, T> {
    /// Appends every element of `it` (as many as its reported length; a
    /// shorter iterator appends fewer, which the chunk check catches).
    ///
    /// # Panics
    /// If the chunk overflows.
    #[inline]
    pub fn extend<I>(&mut self, it: I)
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
    {
        let it = it.into_iter();
        let n = it.len();
        // One bounds check for the run, then a loop the compiler vectorises.
        let mut written = 0;
        for (w, v) in self.buf[self.len..self.len + n].iter_mut().zip(it) {
            w.write(v);
            written += 1;
        }
        self.len += written;
    }

    /// Appends `x * s` for every `x` of `src` (in fixed vector steps, see
    /// `rows`).
    ///
    /// # Panics
    /// If the chunk overflows.
    #[inline]
    pub fn extend_scaled(&mut self, src: &[T], s: T)
    where
        T: std::ops::Mul<Output = T>,
    {
        let dst = &mut self.buf[self.len..self.len + src.len()];
        super::rows::map_row(dst, src, |x| x * s);
        self.len += src.len();
    }

    /// Appends one scaled copy of `row` per element of `scales`, in order:
    /// the outer product `scales ⊗ row`, row by row.
    ///
    /// # Panics
    /// If the chunk overflows.
    #[inline]
    pub fn extend_outer(&mut self, row: &[T], scales: &[T])
    where
        T: std::ops::Mul<Output = T>,
    {
        let dst = self.next(row.len() * scales.len());
        super::rows::outer_rows(dst, row, scales);
    }

    /// Appends `scales.len()` rows of `k`: row `r` is `src[r * stride..]
    /// [..k]` scaled by `scales[r]`.
    ///
    /// # Panics
    /// If the chunk overflows or `src` is too short.
    #[inline]
    pub fn extend_scaled_rows(&mut self, src: &[T], stride: usize, k: usize, scales: &[T])
    where
        T: std::ops::Mul<Output = T>,
    {
        let dst = self.next(k * scales.len());
        super::rows::scaled_rows(dst, src, stride, k, scales);
    }

    /// Appends `n` rows of `k`: element `j` of row `r` is
    /// `f(src[r * stride + j], &per_row(r))` (see `rows::map_rows`).
    ///
    /// # Panics
    /// If the chunk overflows or `src` is too short.
    #[inline]
    pub fn extend_mapped_rows<R>(
        &mut self,
        (src, stride): (&[T], usize),
        (n, k): (usize, usize),
        per_row: impl Fn(usize) -> R,
        f: impl Fn(T, &R) -> T,
    ) {
        let dst = self.next(n * k);
        super::rows::map_rows(dst, src, stride, k, per_row, f);
    }

    /// The next `n` elements of the chunk, counted as appended (the caller
    /// writes every one of them).
    #[inline]
    fn next(&mut self, n: usize) -> &mut [MaybeUninit<T>] {
        let at = self.len;
        self.len += n;
        &mut self.buf[at..at + n]
    }

    /// Appends `n` copies of `v`.
    #[inline]
    pub fn fill(&mut self, v: T, n: usize) {
        for w in &mut self.buf[self.len..self.len + n] {
            w.write(v);
        }
        self.len += n;
    }
}

/// A buffer of `total` elements built in chunks of `chunk` elements (the
/// last one shorter): `fill(range, sink)` appends the elements of `range`.
/// Chunks run in parallel when the result is large.
///
/// # Panics
/// If `fill` leaves a chunk short, or `chunk` is 0 while `total` is not.
pub fn build_chunks<T, F>(total: usize, chunk: usize, fill: F) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(Range<usize>, &mut Sink<'_, T>) + Sync + Send,
{
    let mut out: Vec<T> = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let run = |(j, buf): (usize, &mut [MaybeUninit<T>])| {
        let n = buf.len();
        let mut sink = Sink { buf, len: 0 };
        fill(j * chunk..j * chunk + n, &mut sink);
        assert_eq!(
            sink.len, n,
            "transforms-kernels: build_chunks: chunk {j} was left short"
        );
    };
    let spare = &mut out.spare_capacity_mut()[..total];
    if parallel(total) && chunk < total {
        spare.par_chunks_mut(chunk).enumerate().for_each(run);
    } else {
        spare.chunks_mut(chunk).enumerate().for_each(run);
    }
    // SAFETY: every chunk of the first `total` elements was filled exactly
    // (asserted above, before this point is reached).
    unsafe { out.set_len(total) };
    out
}

/// The length of the blocks `0..n` is split into for results of `elems`
/// elements: about four per thread, or all of it when not parallel.
pub fn blocks(n: usize, elems: usize) -> usize {
    if !parallel(elems) {
        return n.max(1);
    }
    n.div_ceil(rayon::current_num_threads() * 4)
        .clamp(1, n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_in_order_both_ways() {
        for total in [1usize, 599, 1 << 18, (1 << 18) + 77] {
            let out = build_chunks(total, 200, |r, s| s.extend(r.map(|i| i as f64)));
            assert_eq!(out.len(), total);
            assert!(out.iter().enumerate().all(|(i, &v)| v == i as f64));
        }
    }

    #[test]
    #[should_panic(expected = "left short")]
    fn short_chunk_is_caught() {
        build_chunks(8, 4, |_, s: &mut Sink<'_, f32>| s.fill(1.0, 3));
    }
}
