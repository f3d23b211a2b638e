//! One row written from another through an elementwise map, for the short
//! rows of Jacobian blocks (31 or 33 elements in the batch workloads). The
//! compiler's vectorised loop for `zip` handles 32 elements a step and leaves
//! a short row to its scalar remainder; here rows go in fixed steps of
//! [`LANES`], and the last partial step is a full step ending at the row's
//! end that rewrites a few elements with the same values.

use std::mem::MaybeUninit;

/// Elements per fixed step: one AVX register of `f32`.
pub const LANES: usize = 8;

/// `dst[i] = f(src[i])` for every `i`.
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
pub fn map_row<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T], f: impl Fn(T) -> T) {
    let n = src.len();
    assert_eq!(dst.len(), n, "transforms-kernels: row lengths differ");
    if n < LANES {
        for (w, &x) in dst.iter_mut().zip(src) {
            w.write(f(x));
        }
        return;
    }
    let step = |d: &mut [MaybeUninit<T>], s: &[T]| {
        let d: &mut [MaybeUninit<T>; LANES] = d.try_into().expect("a full step");
        let s: &[T; LANES] = s.try_into().expect("a full step");
        // All loads, then all stores: with no store between two loads the
        // step is one vector load, multiply and store even where the
        // compiler cannot prove `dst` and `src` apart.
        let v: [T; LANES] = std::array::from_fn(|i| f(s[i]));
        for (w, x) in d.iter_mut().zip(v) {
            w.write(x);
        }
    };
    // Exact chunks: no bounds check inside the loop.
    for (d, s) in dst.chunks_exact_mut(LANES).zip(src.chunks_exact(LANES)) {
        step(d, s);
    }
    if !n.is_multiple_of(LANES) {
        // Overlaps the previous step: those elements get the same values.
        step(&mut dst[n - LANES..], &src[n - LANES..]);
    }
}

/// `dst` as rows of `k`: row `r` is `src[r * stride..][..k]` scaled by
/// `scales[r]`, for every `r < scales.len()`. A function of its own (not
/// inlined into its caller), so that its slices are known not to overlap
/// and the rows go straight through the 8-wide steps: per-row overhead is
/// what short rows cost.
///
/// A build that does not target AVX2 or AVX-512 (no `-C target-cpu`) runs
/// it compiled for them where the CPU has them ([`super::wide`]): the same
/// products, in wider stores. Without it a default build wrote a dense
/// layer's Jacobian at a quarter of the speed.
///
/// # Panics
/// If `dst` is not `scales.len()` rows of `k`, or `src` is too short.
#[inline(never)]
pub fn scaled_rows<T: Copy + std::ops::Mul<Output = T>>(
    dst: &mut [MaybeUninit<T>],
    src: &[T],
    stride: usize,
    k: usize,
    scales: &[T],
) {
    assert_eq!(
        dst.len(),
        k * scales.len(),
        "transforms-kernels: scaled_rows: rows do not fill the destination"
    );
    super::wide(
        #[inline(always)]
        move || scaled_rows_in(dst, src, stride, k, scales),
    );
}

/// The body of [`scaled_rows`].
#[inline(always)]
fn scaled_rows_in<T: Copy + std::ops::Mul<Output = T>>(
    dst: &mut [MaybeUninit<T>],
    src: &[T],
    stride: usize,
    k: usize,
    scales: &[T],
) {
    let per_row = |r: usize| scales[r];
    let f = |x: T, s: &T| x * *s;
    // Every short length with the length a constant (for this one kernel
    // only: each length is a function of its own).
    macro_rules! by_length {
        ($($k:literal)*) => {
            match k {
                $($k => fixed_rows::<T, T, $k>(dst, src, stride, per_row, f),)*
                _ => map_rows(dst, src, stride, k, per_row, f),
            }
        };
    }
    by_length!(
        9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36
        37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64
    );
}

/// `dst` as rows of `k`: element `j` of row `r` is
/// `f(src[r * stride + j], &per_row(r))`, for every row of `dst`. Common
/// short row lengths (8, 16, 32, 64) run with the length a constant, each
/// row a fixed run of vector steps without per-row loop bookkeeping; other
/// lengths go through [`map_row`].
///
/// # Panics
/// If `dst` is not whole rows of `k`, or `src` is too short.
#[inline(always)]
pub fn map_rows<T: Copy, R>(
    dst: &mut [MaybeUninit<T>],
    src: &[T],
    stride: usize,
    k: usize,
    per_row: impl Fn(usize) -> R,
    f: impl Fn(T, &R) -> T,
) {
    if k == 0 {
        return;
    }
    assert!(
        dst.len().is_multiple_of(k),
        "transforms-kernels: map_rows: rows do not fill the destination"
    );
    match k {
        8 => fixed_rows::<T, R, 8>(dst, src, stride, per_row, f),
        16 => fixed_rows::<T, R, 16>(dst, src, stride, per_row, f),
        32 => fixed_rows::<T, R, 32>(dst, src, stride, per_row, f),
        64 => fixed_rows::<T, R, 64>(dst, src, stride, per_row, f),
        _ => {
            for (r, d) in dst.chunks_exact_mut(k).enumerate() {
                let a = per_row(r);
                map_row(d, &src[r * stride..r * stride + k], |x| f(x, &a));
            }
        }
    }
}

/// [`map_rows`] for rows of exactly `K`.
#[inline(always)]
fn fixed_rows<T: Copy, R, const K: usize>(
    dst: &mut [MaybeUninit<T>],
    src: &[T],
    stride: usize,
    per_row: impl Fn(usize) -> R,
    f: impl Fn(T, &R) -> T,
) {
    // Rows whose length is not a whole number of steps end with one step
    // at `K - LANES`, overlapping the last whole one (its elements get the
    // same values again), so that a row of 31 is four vector stores, not
    // three and seven scalar ones. The offset goes through `black_box`:
    // where the compiler sees the overlap it drops the repeated elements
    // and splits the rest into 4 + 2 + 1 again.
    let ragged = K >= LANES && !K.is_multiple_of(LANES);
    let tail = std::hint::black_box(K.saturating_sub(LANES));
    for (r, d) in dst.chunks_exact_mut(K).enumerate() {
        let d: &mut [MaybeUninit<T>; K] = d.try_into().expect("a whole row");
        let row: &[T; K] = src[r * stride..][..K].try_into().expect("a whole row");
        let a = per_row(r);
        if !ragged {
            // All loads, then all stores (as in `map_row`).
            let v: [T; K] = std::array::from_fn(|i| f(row[i], &a));
            for (w, x) in d.iter_mut().zip(v) {
                w.write(x);
            }
            continue;
        }
        for o in (0..K / LANES).map(|s| s * LANES) {
            let v: [T; LANES] = std::array::from_fn(|i| f(row[o + i], &a));
            for (w, x) in d[o..o + LANES].iter_mut().zip(v) {
                w.write(x);
            }
        }
        // SAFETY: `tail` is `K - LANES` (`black_box` returns its argument),
        // so both runs of LANES elements lie inside the row and `d`.
        unsafe {
            let v: [T; LANES] = std::ptr::read_unaligned(row.as_ptr().add(tail).cast());
            let v = v.map(|x| f(x, &a));
            std::ptr::write_unaligned(d.as_mut_ptr().add(tail).cast::<[T; LANES]>(), v);
        }
    }
}

/// `dst` as rows of `row.len()`: row `r` is `row` scaled by `scales[r]`
/// (the outer product `scales ⊗ row`). Not inlined, as [`scaled_rows`].
///
/// # Panics
/// If `dst` is not `scales.len()` rows of `row.len()`.
#[inline(never)]
pub fn outer_rows<T: Copy + std::ops::Mul<Output = T>>(
    dst: &mut [MaybeUninit<T>],
    row: &[T],
    scales: &[T],
) {
    scaled_rows(dst, row, 0, row.len(), scales);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_and_outer_rows_match_index_arithmetic() {
        let src: Vec<f64> = (0..240).map(|i| f64::from(i) * 0.5 - 3.0).collect();
        let src32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
        for k in 0..=70 {
            // f32 too, whose steps are one vector each (a row not a whole
            // number of them ends with an overlapping step).
            check_rows(&src, [2.0, -1.0, 0.25], k, f64::NAN);
            check_rows(&src32, [2.0, -1.0, 0.25], k, f32::NAN);
        }
    }

    /// [`scaled_rows`] and [`outer_rows`] of three rows of `k` from `src`
    /// against index arithmetic, into a destination filled with `nan`.
    fn check_rows<T>(src: &[T], scales: [T; 3], k: usize, nan: T)
    where
        T: Copy + std::ops::Mul<Output = T> + PartialEq + std::fmt::Debug,
    {
        let stride = k / 2 + 9;
        let mut dst = vec![MaybeUninit::new(nan); 3 * k];
        scaled_rows(&mut dst, src, stride, k, &scales);
        // SAFETY: initialised at creation.
        let got: Vec<T> = dst.iter().map(|w| unsafe { w.assume_init() }).collect();
        let want: Vec<T> = (0..3 * k)
            .map(|e| src[(e / k) * stride + e % k] * scales[e / k])
            .collect();
        assert_eq!(got, want, "k = {k}");
        outer_rows(&mut dst, &src[..k], &scales);
        // SAFETY: as above.
        let got: Vec<T> = dst.iter().map(|w| unsafe { w.assume_init() }).collect();
        let want: Vec<T> = (0..3 * k).map(|e| src[e % k] * scales[e / k]).collect();
        assert_eq!(got, want, "outer, k = {k}");
    }

    #[test]
    fn every_length_is_mapped_exactly() {
        for n in 0..40 {
            let src: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
            let mut dst = vec![MaybeUninit::new(-1.0f32); n];
            map_row(&mut dst, &src, |x| x * 3.0);
            // SAFETY: initialised at creation (and overwritten by the map).
            let got: Vec<f32> = dst.iter().map(|w| unsafe { w.assume_init() }).collect();
            let want: Vec<f32> = src.iter().map(|x| x * 3.0).collect();
            assert_eq!(got, want, "n = {n}");
        }
    }

    #[test]
    #[should_panic(expected = "row lengths differ")]
    fn mismatched_lengths_panic() {
        let mut dst = vec![MaybeUninit::new(0.0f32); 9];
        map_row(&mut dst, &[1.0; 10], |x| x);
    }
}
