//! Products whose left matrix has at most one non-zero per row: scaled rows
//! of the right matrix instead of a GEMM. Derivative programs meet such
//! matrices where a Jacobian seed reaches a product in a form the compiler
//! cannot keep symbolic (the Hessian of a scalar function with `x^T M x`
//! multiplies a scaled identity by `M`): checking the rows costs `m * k`
//! reads, against the GEMM's `m * k * n` multiply-adds, and a dense matrix
//! fails the check within its first row.

use super::gemm::GemmOperand;
use super::strided::copy_strided;
use crate::Element;

/// Below this many multiply-adds the GEMM is cheap enough as it is.
const MIN_FMAS: usize = 1 << 16;

/// `c = a @ b` (`a` is `m x k` at `oa`, `b` is `k x n` at `ob`, `c` is
/// contiguous `m x n`) when every row of `a` holds at most one non-zero and
/// every element of `b` is finite (so that the skipped `0 * b` terms are
/// exactly zero, as in the GEMM). Returns false, writing nothing, otherwise.
#[allow(clippy::too_many_arguments)]
pub(super) fn product<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: &GemmOperand<'_, T>,
    oa: usize,
    b: &GemmOperand<'_, T>,
    ob: usize,
    c: &mut [T],
) -> bool {
    if m * k * n < MIN_FMAS || n < 8 {
        return false;
    }
    let Some(picks) = one_per_row(m, k, a, oa) else {
        return false;
    };
    // `b` as contiguous rows (one tiled transpose when it is read
    // transposed, rather than a strided read per element).
    let copied;
    let (rows, stride) = if b.col_stride == 1 {
        (&b.data[ob..], b.row_stride)
    } else {
        copied = copy_strided(&[k, n], &b.data[ob..], &[b.row_stride, b.col_stride]);
        (&copied[..], n)
    };
    let finite = (0..k).all(|p| all_finite(&rows[p * stride..][..n]));
    if !finite {
        return false;
    }
    for (out, pick) in c.chunks_exact_mut(n).zip(picks) {
        match pick {
            None => out.fill(T::zero()),
            Some((p, s)) => {
                for (o, &y) in out.iter_mut().zip(&rows[p * stride..][..n]) {
                    *o = s * y;
                }
            }
        }
    }
    true
}

/// Whether every element is finite, in lanes that vectorise: `0 * y` is
/// zero for finite `y` and NaN for infinities and NaN.
fn all_finite<T: Element>(xs: &[T]) -> bool {
    const L: usize = 8;
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
            // A count that vectorises, then the one position.
            let r = &a.data[row..row + k];
            match r
                .iter()
                .map(|&v| usize::from(v != T::zero()))
                .sum::<usize>()
            {
                0 => None,
                1 => r.iter().position(|&v| v != T::zero()).map(|p| (p, r[p])),
                _ => return None,
            }
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

#[cfg(test)]
mod tests {
    use super::super::gemm::batched_gemm;
    use super::*;

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

    #[test]
    fn one_non_zero_per_row_is_a_row_gather() {
        let (m, k, n) = (64, 48, 40);
        // A scaled permutation with some zero rows.
        let mut a = vec![0.0; m * k];
        for i in 0..m {
            if i % 5 != 3 {
                a[i * k + (i * 7) % k] = 0.5 + i as f64;
            }
        }
        let b = b_matrix(k, n);
        let mut c = vec![f64::NAN; m * n];
        assert!(product(
            m,
            k,
            n,
            &operand(&a, k, 1),
            0,
            &operand(&b, n, 1),
            0,
            &mut c
        ));
        assert_eq!(c, naive(m, k, n, &a, &b));
        // `b` read transposed (column-major storage of the same matrix).
        let bt: Vec<f64> = (0..n * k).map(|q| b[(q % k) * n + q / k]).collect();
        let mut c2 = vec![f64::NAN; m * n];
        assert!(product(
            m,
            k,
            n,
            &operand(&a, k, 1),
            0,
            &operand(&bt, 1, k),
            0,
            &mut c2
        ));
        assert_eq!(c2, c);
        // And through the public entry point.
        assert_eq!(
            batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1)),
            c
        );
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
            m,
            k,
            n,
            &operand(&a, k, 1),
            0,
            &operand(&b, n, 1),
            0,
            &mut c
        ));
        let got = batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1));
        assert_eq!(got, naive(m, k, n, &a, &b));
        // 0 * inf is NaN in the product: a gather would skip it.
        a[(m - 1) * k] -= 2.0;
        let mut b = b;
        b[3 * n + 5] = f64::INFINITY;
        assert!(!product(
            m,
            k,
            n,
            &operand(&a, k, 1),
            0,
            &operand(&b, n, 1),
            0,
            &mut c
        ));
        let got = batched_gemm(&[], m, k, n, operand(&a, k, 1), operand(&b, n, 1));
        assert!(got[5].is_nan(), "row 0 multiplies the inf by zero");
    }
}
