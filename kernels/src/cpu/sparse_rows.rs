//! Products whose left matrix has at most one non-zero per row: scaled rows
//! of the right matrix instead of a GEMM. Derivative programs meet such
//! matrices where a Jacobian seed reaches a product in a form the compiler
//! cannot keep symbolic (the Hessian of a scalar function with `x^T M x`
//! multiplies a scaled identity by `M`): checking the rows costs `m * k`
//! reads, against the GEMM's `m * k * n` multiply-adds, and a dense matrix
//! fails the check within its first row.

use std::any::TypeId;
use std::mem::MaybeUninit;

use super::gemm::{Block, GemmOperand};
use super::strided::copy_strided;
use crate::Element;

/// Below this many multiply-adds the GEMM is cheap enough as it is.
const MIN_FMAS: usize = 1 << 16;

/// `c = a @ b` (`a` is `m x k` at `oa`, `b` is `k x n` at `ob`) as scaled
/// rows of `b`: found when every row of `a` holds at most one non-zero and
/// every element of `b` is finite (so that the skipped `0 * b` terms are
/// exactly zero, as in the GEMM).
pub(super) struct SparseRows<'a, T: Clone> {
    k: usize,
    n: usize,
    /// Per row of `a`: its non-zero `(row of b, value)`, or `None`.
    picks: Vec<Option<(usize, T)>>,
    /// `b` from its first element: element `(p, j)` at
    /// `p * stride + j * col_stride`.
    rows: &'a [T],
    stride: usize,
    col_stride: usize,
}

impl<'a, T: Element> SparseRows<'a, T> {
    /// The row plan, or `None` (having read only part of `a` when a row of
    /// it is dense) when the GEMM is needed.
    pub(super) fn find(p: Block<'a, T>) -> Option<Self> {
        let Block {
            m,
            k,
            n,
            a,
            oa,
            b,
            ob,
        } = p;
        if m * k * n < MIN_FMAS || n < 8 {
            return None;
        }
        let picks = one_per_row(m, k, &a, oa)?;
        let (rows, stride, col_stride) = (&b.data[ob..], b.row_stride, b.col_stride);
        // Every element of `b`, read along its unit stride.
        let finite = super::wide(
            #[inline(always)]
            move || {
                if col_stride == 1 {
                    (0..k).all(|p| all_finite(&rows[p * stride..][..n]))
                } else if stride == 1 {
                    (0..n).all(|j| all_finite(&rows[j * col_stride..][..k]))
                } else {
                    (0..k).all(|p| (0..n).all(|j| rows[p * stride + j * col_stride].is_finite()))
                }
            },
        );
        finite.then_some(SparseRows {
            k,
            n,
            picks,
            rows,
            stride,
            col_stride,
        })
    }

    /// Writes every element of `c` (contiguous `m x n`). A `b` read
    /// transposed (its rows strided) goes `TILE` columns at a time, from a
    /// contiguous copy of those columns of the rows that `a` picks (one
    /// tiled transpose of at most `k x TILE`), so that the copy is a slice
    /// of `b` rather than all of it (`b` is as large as the result: 256 KB
    /// for quad's Hessian); the same products either way, so the same
    /// bits.
    pub(super) fn write(&self, c: &mut [MaybeUninit<T>]) {
        super::wide(
            #[inline(always)]
            move || self.write_in(c),
        );
    }

    /// The body of [`SparseRows::write`].
    #[inline(always)]
    fn write_in(&self, c: &mut [MaybeUninit<T>]) {
        const TILE: usize = 64;
        let (k, n, stride, cs) = (self.k, self.n, self.stride, self.col_stride);
        if cs == 1 {
            self.write_columns(c, 0, 0, self.rows, stride, n);
            return;
        }
        // Only the rows of `b` that rows of `a` pick (a block of a
        // Hessian's rows picks a block of `b`'s).
        let picked = self.picks.iter().flatten().map(|&(p, _)| p);
        let first = picked.clone().min().unwrap_or(0);
        let len = picked.max().map_or(0, |last| last + 1 - first);
        debug_assert!(first + len <= k);
        for j0 in (0..n).step_by(TILE) {
            let w = TILE.min(n - j0);
            let cols = copy_strided(
                &[len, w],
                &self.rows[first * stride + j0 * cs..],
                &[stride, cs],
            );
            self.write_columns(c, j0, first, &cols, w, w);
        }
    }

    /// Columns `j0..j0 + w` of every row of `c`, from `b`'s rows of those
    /// columns in `rows`, `stride` apart, from `b`'s row `first` on.
    #[inline(always)]
    fn write_columns(
        &self,
        c: &mut [MaybeUninit<T>],
        j0: usize,
        first: usize,
        rows: &[T],
        stride: usize,
        w: usize,
    ) {
        for (out, pick) in c.chunks_exact_mut(self.n).zip(&self.picks) {
            let out = &mut out[j0..j0 + w];
            match *pick {
                None => out.iter_mut().for_each(|o| {
                    o.write(T::zero());
                }),
                // A plain loop, which the compiler vectorises along the
                // row. Through `map_row`'s fixed steps, with `w` known to be
                // a whole tile, it vectorised across the steps instead:
                // eight gathers a step (+25% on quad's whole Hessian, in a
                // build where an unrelated change had tipped the choice).
                Some((p, s)) => {
                    let src = &rows[(p - first) * stride..][..w];
                    for (o, &y) in out.iter_mut().zip(src) {
                        o.write(s * y);
                    }
                }
            }
        }
    }
}

/// Whether every element is finite, in lanes that vectorise: `0 * y` is
/// zero for finite `y` and NaN for infinities and NaN. Four vectors of
/// lanes, so that the sums are not one chain of dependent adds (a chain
/// ran at a quarter of the speed: the check reads all of `b` for each
/// block of a Hessian's rows).
#[inline(always)]
fn all_finite<T: Element>(xs: &[T]) -> bool {
    const L: usize = 32;
    let chunks = xs.chunks_exact(L);
    let tail = chunks.remainder().iter().all(|y| y.is_finite());
    let mut acc = [T::zero(); L];
    for c in chunks {
        for (a, &y) in acc.iter_mut().zip(c) {
            *a += y * T::zero();
        }
    }
    tail && acc.iter().all(|&a| a == T::zero())
}

/// For each row of `a`, its one non-zero `(column, value)` or `None` for a
/// zero row; `None` overall as soon as a row has two (NaN counts as
/// non-zero).
fn one_per_row<T: Element>(
    m: usize,
    k: usize,
    a: &GemmOperand<'_, T>,
    oa: usize,
) -> Option<Vec<Option<(usize, T)>>> {
    let mut picks = Vec::with_capacity(m);
    for i in 0..m {
        let row = oa + i * a.row_stride;
        let at = |p: usize| a.data[row + p * a.col_stride];
        let pick = if a.col_stride == 1 {
            one_non_zero(&a.data[row..row + k])?
        } else {
            let mut nz = (0..k).filter(|&p| at(p) != T::zero());
            match (nz.next(), nz.next()) {
                (None, _) => None,
                (Some(p), None) => Some((p, at(p))),
                (Some(_), Some(_)) => return None,
            }
        };
        picks.push(pick);
    }
    Some(picks)
}

/// A contiguous row's one non-zero `(column, value)`, `Some(None)` for a
/// zero row, `None` for two or more: one pass of 8-wide steps, each a
/// compare to a bit mask (NaN compares non-zero).
fn one_non_zero<T: Element>(r: &[T]) -> Option<Option<(usize, T)>> {
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>()
        && std::arch::is_x86_feature_detected!("avx")
        && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: T is f32 (same layout, checked above), and AVX and POPCNT
        // are present.
        let at = unsafe {
            avx::one_non_zero(std::slice::from_raw_parts(
                r.as_ptr().cast::<f32>(),
                r.len(),
            ))
        };
        return at.map(|p| p.map(|p| (p, r[p])));
    }
    Some(single(&mut r.chunks(L).map(step_mask))?.map(|p| (p, r[p])))
}

/// Steps of this many elements, one bit each in a mask.
const L: usize = 8;

/// The mask of a step's non-zero elements (NaN compares non-zero).
fn step_mask<T: Element>(step: &[T]) -> u32 {
    step.iter()
        .enumerate()
        .fold(0u32, |m, (i, &v)| m | (u32::from(v != T::zero()) << i))
}

/// The position of the one set bit in the masks of consecutive `L`-wide
/// steps, `Some(None)` when none is set, `None` when two are.
fn single(masks: &mut impl Iterator<Item = u32>) -> Option<Option<usize>> {
    let mut found = None;
    for (c, bits) in masks.enumerate() {
        if bits == 0 {
            continue;
        }
        if found.is_some() || bits.count_ones() > 1 {
            return None;
        }
        found = Some(c * L + bits.trailing_zeros() as usize);
    }
    Some(found)
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{L, single, step_mask};

    /// [`super::one_non_zero`]'s position for `f32` rows: four steps of
    /// eight at a time, their compare masks joined into one word, whose set
    /// bits are counted and whose lowest one is kept; no branch per step
    /// (with a branch and an iterator per step, about 6 cycles a step:
    /// quad's Hessian took 120-124 µs, 111-112 with this). A row with two
    /// non-zeros is refused after it is read (a dense `a` still fails within
    /// its first row).
    ///
    /// # Safety
    /// AVX and POPCNT must be available.
    #[target_feature(enable = "avx,popcnt")]
    pub(super) unsafe fn one_non_zero(r: &[f32]) -> Option<Option<usize>> {
        const W: usize = 4 * L;
        let zero = _mm256_setzero_ps();
        // Not equal, or unordered (NaN): non-zero.
        let mask = |p: *const f32| {
            // SAFETY: the caller's `p` has 8 elements in bounds; AVX per the
            // contract.
            let bits = unsafe {
                _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(_mm256_loadu_ps(p), zero))
            };
            bits as u32
        };
        let (mut count, mut at) = (0u32, 0usize);
        let whole = r.len() / W * W;
        for c in (0..whole).step_by(W) {
            // SAFETY: c + 32 <= r.len().
            let m = unsafe {
                let p = r.as_ptr().add(c);
                mask(p)
                    | mask(p.add(L)) << L
                    | mask(p.add(2 * L)) << (2 * L)
                    | mask(p.add(3 * L)) << (3 * L)
            };
            count += m.count_ones();
            if m != 0 {
                at = c + m.trailing_zeros() as usize;
            }
        }
        let rest = single(&mut r[whole..].chunks(L).map(step_mask))?;
        match (count, rest) {
            (0, rest) => Some(rest.map(|p| whole + p)),
            (1, None) => Some(Some(at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::gemm::batched_gemm;
    use super::*;

    /// The plan for `a @ b` (offsets 0), written into `c`; false (leaving
    /// `c` alone) without one.
    fn product(
        (m, k, n): (usize, usize, usize),
        a: GemmOperand<'_, f64>,
        b: GemmOperand<'_, f64>,
        c: &mut [f64],
    ) -> bool {
        let block = Block {
            m,
            k,
            n,
            a,
            oa: 0,
            b,
            ob: 0,
        };
        let Some(rows) = SparseRows::find(block) else {
            return false;
        };
        let mut out = vec![MaybeUninit::uninit(); m * n];
        rows.write(&mut out);
        for (o, w) in c.iter_mut().zip(out) {
            // SAFETY: `write` initialises every element.
            *o = unsafe { w.assume_init() };
        }
        true
    }

    fn operand(data: &[f64], row_stride: usize, col_stride: usize) -> GemmOperand<'_, f64> {
        GemmOperand {
            data,
            batch_strides: &[],
            row_stride,
            col_stride,
        }
    }

    fn naive(m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn b_matrix(k: usize, n: usize) -> Vec<f64> {
        (0..k * n)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
            .collect()
    }

    fn finds_the_column_or_refuses<T: Element>() {
        let (zero, one, x) = (T::zero(), T::one(), T::from(-2.5).unwrap());
        // Around the step of 8 and the AVX scan's words of four steps (whole
        // words, then a tail of whole and partial steps).
        for k in [0, 1, 7, 8, 9, 23, 24, 30, 31, 32, 33, 40, 63, 64, 65, 100] {
            assert_eq!(one_non_zero(&vec![zero; k]), Some(None), "k = {k}");
            for p in 0..k {
                let mut r = vec![zero; k];
                r[p] = -zero;
                assert_eq!(one_non_zero(&r), Some(None), "-0 is zero");
                r[p] = x;
                assert_eq!(one_non_zero(&r), Some(Some((p, x))), "k = {k}, p = {p}");
                r[p] = T::nan();
                assert!(matches!(one_non_zero(&r), Some(Some((q, v))) if q == p && v.is_nan()));
                for q in (0..k).filter(|&q| q != p) {
                    r[q] = one;
                    assert_eq!(one_non_zero(&r), None, "k = {k}, p = {p}, q = {q}");
                    r[q] = zero;
                }
            }
        }
    }

    #[test]
    fn one_non_zero_finds_the_column_or_refuses() {
        finds_the_column_or_refuses::<f32>();
        finds_the_column_or_refuses::<f64>();
    }

    #[test]
    fn one_non_zero_per_row_is_a_row_gather() {
        // 150 columns: `b` read transposed goes 64 columns at a time, the
        // last tile partial. Picks over all of `b`'s rows, and over rows
        // 10..30 only (the part of `b` that is copied).
        let spread = |i: usize, k: usize| (i * 7) % k;
        let middle = |i: usize, _: usize| 10 + (i * 3) % 20;
        for (m, k, n, pick) in [
            (64, 48, 40, &spread as &dyn Fn(usize, usize) -> usize),
            (64, 48, 150, &spread),
            (64, 48, 150, &middle),
        ] {
            // A scaled permutation with some zero rows.
            let mut a = vec![0.0; m * k];
            for i in 0..m {
                if i % 5 != 3 {
                    a[i * k + pick(i, k)] = 0.5 + i as f64;
                }
            }
            let b = b_matrix(k, n);
            let mut c = vec![f64::NAN; m * n];
            assert!(product(
                (m, k, n),
                operand(&a, k, 1),
                operand(&b, n, 1),
                &mut c
            ));
            assert_eq!(c, naive(m, k, n, &a, &b));
            // `b` read transposed (column-major storage of the same matrix).
            let bt: Vec<f64> = (0..n * k).map(|q| b[(q % k) * n + q / k]).collect();
            let mut c2 = vec![f64::NAN; m * n];
            assert!(product(
                (m, k, n),
                operand(&a, k, 1),
                operand(&bt, 1, k),
                &mut c2
            ));
            assert_eq!(c2, c);
            // And through the public entry point.
            assert_eq!(
                batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1)),
                c
            );
        }
    }

    #[test]
    fn dense_rows_or_non_finite_b_keep_the_gemm() {
        let (m, k, n) = (64, 48, 40);
        let mut a = vec![0.0; m * k];
        for i in 0..m {
            a[i * k + i % k] = 1.0;
        }
        a[(m - 1) * k] += 2.0; // the last row has two non-zeros
        let b = b_matrix(k, n);
        let mut c = vec![0.0; m * n];
        assert!(!product(
            (m, k, n),
            operand(&a, k, 1),
            operand(&b, n, 1),
            &mut c
        ));
        let got = batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1));
        assert_eq!(got, naive(m, k, n, &a, &b));
        // 0 * inf is NaN in the product: a gather would skip it.
        a[(m - 1) * k] -= 2.0;
        let mut b = b;
        b[3 * n + 5] = f64::INFINITY;
        assert!(!product(
            (m, k, n),
            operand(&a, k, 1),
            operand(&b, n, 1),
            &mut c
        ));
        let got = batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1));
        assert!(got[5].is_nan(), "row 0 multiplies the inf by zero");
        // The same with `b` read transposed (its finiteness read strided).
        let bt: Vec<f64> = (0..n * k).map(|q| b[(q % k) * n + q / k]).collect();
        assert!(!product(
            (m, k, n),
            operand(&a, k, 1),
            operand(&bt, 1, k),
            &mut c
        ));
    }
}
