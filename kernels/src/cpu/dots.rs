//! Many dot products of one vector: `out[j] = x . rows[j * stride..][..k]`
//! (a matrix-vector product with the matrix's rows contiguous). Each is the
//! GEMM module's `dot`, bit for bit: eight partial sums over the whole
//! chunks of eight, added in lane order, then the tail's products summed in
//! order. On x86-64 with AVX, `f32` rows go eight at a time: their partial
//! sums are eight vectors, and one 8 x 8 transpose turns the eight
//! horizontal sums (the cost of a short dot product) into seven vector adds
//! in the same order. Where the build targets FMA (`-C target-cpu=native`
//! on a machine with it), every partial sum is a fused multiply-add, in all
//! three forms alike (`dot`, the AVX rows, `gemm`'s row updates), so that
//! they still agree bit for bit.

use std::any::TypeId;

use crate::Element;

/// The partial sums of [`dot`].
pub(super) const LANES: usize = 8;

/// `acc + a * b`: one fused multiply-add where the build targets FMA (a
/// `mul_add` without it would be a libm call per element), otherwise the
/// product rounded, then the sum. Every partial sum of a dot product goes
/// through it.
#[inline(always)]
pub(super) fn madd<T: Element>(acc: T, a: T, b: T) -> T {
    if cfg!(target_feature = "fma") {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// `x . y` with eight partial sums, so that the loop vectorises.
pub(super) fn dot<T: Element>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let (xs, ys) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail = tail_sum(xs.remainder(), ys.remainder());
    for (a, b) in xs.zip(ys) {
        for l in 0..LANES {
            acc[l] = madd(acc[l], a[l], b[l]);
        }
    }
    acc.iter().copied().sum::<T>() + tail
}

/// The products of the elements past the whole chunks, summed in order.
#[inline]
fn tail_sum<T: Element>(x: &[T], y: &[T]) -> T {
    x.iter().zip(y).map(|(&a, &b)| a * b).sum()
}

/// `out[j] = dot(x, rows[j * stride..][..x.len()])` for every `j`: a
/// matrix-vector product with the matrix's rows contiguous, bit for bit as
/// `batched_gemm` computes it.
///
/// # Panics
/// If `rows` is too short for the last row.
pub fn dots<T: Element>(x: &[T], rows: &[T], stride: usize, out: &mut [T]) {
    let k = x.len();
    if let Some(last) = out.len().checked_sub(1) {
        assert!(
            last * stride + k <= rows.len(),
            "transforms-kernels: dots: rows reach past the end of their buffer"
        );
    }
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: T is f32 (same layout, checked above), and AVX is present.
        // Rows `j < out.len()` lie inside `rows` (asserted above).
        unsafe {
            let cast = |s: &[T]| std::slice::from_raw_parts(s.as_ptr().cast::<f32>(), s.len());
            let out32 = std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<f32>(), out.len());
            done = avx::dots8(cast(x), cast(rows), stride, out32);
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(done) {
        *o = dot(x, &rows[j * stride..j * stride + k]);
    }
    let _ = TypeId::of::<T>;
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{LANES, tail_sum};

    /// `acc + x * w` per lane, as [`super::madd`] rounds it.
    #[inline(always)]
    unsafe fn madd8(acc: __m256, x: __m256, w: __m256) -> __m256 {
        #[cfg(target_feature = "fma")]
        // SAFETY: the build targets FMA.
        return unsafe { _mm256_fmadd_ps(x, w, acc) };
        #[cfg(not(target_feature = "fma"))]
        // SAFETY: the caller runs with AVX.
        return unsafe { _mm256_add_ps(acc, _mm256_mul_ps(x, w)) };
    }

    /// The rows of `out` in whole groups of eight, then one group of four
    /// and one of two if that many are left; returns how many rows it
    /// wrote.
    ///
    /// # Safety
    /// AVX must be available, and `rows[j * stride..][..x.len()]` in bounds
    /// for every `j < out.len()`.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn dots8(x: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) -> usize {
        let k = x.len();
        let whole = k / LANES * LANES;
        let groups = out.len() / 8;
        for g in 0..groups {
            let j0 = g * 8;
            // SAFETY: the caller's bounds, rows j0..j0 + 8 < out.len().
            let (base, acc) = unsafe { partial_sums::<8>(x, rows, stride, j0) };
            let t = super::super::transpose::simd::regs8(acc);
            let mut s = t[0];
            for tl in &t[1..] {
                s = _mm256_add_ps(s, *tl);
            }
            let tails: [f32; 8] = std::array::from_fn(|r| {
                // SAFETY: row j0 + r is in bounds for k elements.
                let row = unsafe { std::slice::from_raw_parts(base[r], k) };
                tail_sum(&x[whole..], &row[whole..])
            });
            // SAFETY: j0 + 8 <= out.len(); `tails` holds eight floats.
            unsafe {
                let res = _mm256_add_ps(s, _mm256_loadu_ps(tails.as_ptr()));
                _mm256_storeu_ps(out.as_mut_ptr().add(j0), res);
            }
        }
        let mut j0 = groups * 8;
        // The rows left in groups of four then two (short blocks of rows
        // that stay in L1 with a long `k`): the same partial sums, each
        // row's lanes then summed as `dot` sums them.
        if out.len() - j0 >= 4 {
            unsafe { few::<4>(x, rows, stride, out, j0) };
            j0 += 4;
        }
        if out.len() - j0 >= 2 {
            unsafe { few::<2>(x, rows, stride, out, j0) };
            j0 += 2;
        }
        j0
    }

    /// The start of rows `j0..j0 + R` and their eight partial sums over
    /// the whole chunks of eight (each one `madd8` chain in order).
    ///
    /// # Safety
    /// AVX must be available, and rows `j0..j0 + R` in bounds for
    /// `x.len()` elements.
    #[inline]
    #[target_feature(enable = "avx")]
    unsafe fn partial_sums<const R: usize>(
        x: &[f32],
        rows: &[f32],
        stride: usize,
        j0: usize,
    ) -> ([*const f32; R], [__m256; R]) {
        let whole = x.len() / LANES * LANES;
        let base: [*const f32; R] =
            std::array::from_fn(|r| unsafe { rows.as_ptr().add((j0 + r) * stride) });
        let mut acc = [_mm256_setzero_ps(); R];
        for c in (0..whole).step_by(LANES) {
            // SAFETY: c + 8 <= whole <= k, inside x and each row.
            unsafe {
                let xv = _mm256_loadu_ps(x.as_ptr().add(c));
                for r in 0..R {
                    let w = _mm256_loadu_ps(base[r].add(c));
                    acc[r] = madd8(acc[r], xv, w);
                }
            }
        }
        (base, acc)
    }

    /// Rows `j0..j0 + R` of `out`.
    ///
    /// # Safety
    /// AVX must be available, `j0 + R <= out.len()`, and rows `j0..j0 + R`
    /// in bounds for `x.len()` elements.
    #[target_feature(enable = "avx")]
    unsafe fn few<const R: usize>(
        x: &[f32],
        rows: &[f32],
        stride: usize,
        out: &mut [f32],
        j0: usize,
    ) {
        let k = x.len();
        let whole = k / LANES * LANES;
        // SAFETY: as this function's.
        let (base, acc) = unsafe { partial_sums::<R>(x, rows, stride, j0) };
        for (r, a) in acc.iter().enumerate() {
            let mut lanes = [0f32; LANES];
            // SAFETY: `lanes` holds eight floats; row j0 + r is in bounds
            // for k elements, and j0 + r < out.len().
            unsafe {
                _mm256_storeu_ps(lanes.as_mut_ptr(), *a);
                let row = std::slice::from_raw_parts(base[r], k);
                *out.get_unchecked_mut(j0 + r) =
                    lanes.iter().copied().sum::<f32>() + tail_sum(&x[whole..], &row[whole..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_the_bits_of_its_own_dot_product() {
        // Lengths around the lane count (tails of 0..7, no whole chunk),
        // row counts around the group of eight, padded rows (stride > k),
        // and values of mixed magnitude so that the summation order shows.
        for k in [0, 1, 5, 8, 13, 31, 32, 33, 64, 517] {
            for n in [0, 1, 3, 4, 5, 7, 8, 9, 12, 13, 16, 23] {
                let stride = k + 3;
                let x: Vec<f32> = (0..k)
                    .map(|i| (i as f32 * 0.37).sin() * 10f32.powi(i as i32 % 7 - 3))
                    .collect();
                let rows: Vec<f32> = (0..n * stride).map(|i| (i as f32 * 0.11).cos()).collect();
                let mut out = vec![f32::NAN; n];
                dots(&x, &rows, stride, &mut out);
                for (j, &o) in out.iter().enumerate() {
                    let want = dot(&x, &rows[j * stride..j * stride + k]);
                    assert_eq!(o.to_bits(), want.to_bits(), "k {k} n {n} row {j}");
                }
                let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
                let rows64: Vec<f64> = rows.iter().map(|&v| f64::from(v)).collect();
                let mut out64 = vec![f64::NAN; n];
                dots(&x64, &rows64, stride, &mut out64);
                for (j, &o) in out64.iter().enumerate() {
                    assert_eq!(
                        o,
                        dot(&x64, &rows64[j * stride..j * stride + k]),
                        "f64 k {k} n {n} row {j}"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "rows reach past the end")]
    fn rows_past_the_end_are_rejected() {
        dots(&[1.0f32; 4], &[1.0; 10], 4, &mut [0.0; 3]);
    }
}
