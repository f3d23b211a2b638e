//! Matrix products backed by the `matrixmultiply` crate.

use std::mem::MaybeUninit;

use super::dots::{LANES, madd};
use super::iter::{contiguous_strides, for_each_offset, max_offset};
use crate::Element;

/// Below this many multiply-adds a plain loop beats packing in `matrixmultiply`.
const SMALL_GEMM: usize = 512;

/// One operand of a [`batched_gemm`]: a buffer holding a (possibly
/// broadcast) batch of strided matrices.
#[derive(Clone, Copy, Debug)]
pub struct GemmOperand<'a, T> {
    /// The buffer.
    pub data: &'a [T],
    /// Stride of each batch dim (0 broadcasts the operand along that dim).
    pub batch_strides: &'a [usize],
    /// Distance between consecutive rows of one matrix.
    pub row_stride: usize,
    /// Distance between consecutive columns of one matrix.
    pub col_stride: usize,
}

/// One product of a batch: the `m x k` matrix of `a` at offset `oa` times
/// the `k x n` matrix of `b` at offset `ob`.
#[derive(Clone, Copy)]
pub(super) struct Block<'a, T> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: GemmOperand<'a, T>,
    pub oa: usize,
    pub b: GemmOperand<'a, T>,
    pub ob: usize,
}

fn check(name: &str, op: &GemmOperand<'_, impl Sized>, batch: &[usize], rows: usize, cols: usize) {
    assert_eq!(
        op.batch_strides.len(),
        batch.len(),
        "transforms-kernels: batched_gemm: operand {name} has the wrong number of batch strides"
    );
    if batch.contains(&0) || rows == 0 || cols == 0 {
        return;
    }
    let end = max_offset(batch, op.batch_strides)
        + (rows - 1) * op.row_stride
        + (cols - 1) * op.col_stride;
    assert!(
        end < op.data.len(),
        "transforms-kernels: batched_gemm: operand {name} reaches past the end of its buffer"
    );
}

/// Batched matrix product: for every index `i` of `batch`,
/// `C[i] = A[i] @ B[i]` with `A[i]` of shape `m x k` and `B[i]` of `k x n`.
/// Returns the contiguous buffer of shape `batch ++ [m, n]`.
///
/// # Panics
/// If an operand's strides reach outside its buffer.
pub fn batched_gemm<T: Element>(
    batch: &[usize],
    m: usize,
    k: usize,
    n: usize,
    a: GemmOperand<'_, T>,
    b: GemmOperand<'_, T>,
) -> Vec<T> {
    check("a", &a, batch, m, k);
    check("b", &b, batch, k, n);
    let count: usize = batch.iter().product();
    // B shared by the whole batch and A's matrices stacked row after row:
    // one GEMM of (count * m) x k by k x n fills the same output layout.
    if count > 1
        && shared_by_batch(batch, b.batch_strides)
        && let Some(row_stride) = stacked_rows(batch, m, a.batch_strides, a.row_stride)
    {
        let rows = GemmOperand {
            data: a.data,
            batch_strides: &[],
            row_stride,
            col_stride: a.col_stride,
        };
        let flat = GemmOperand {
            data: b.data,
            batch_strides: &[],
            row_stride: b.row_stride,
            col_stride: b.col_stride,
        };
        return batched_gemm(&[], count * m, k, n, rows, flat);
    }
    let total = count * m * n;
    if m == 0 || n == 0 || k == 0 || count == 0 {
        return vec![T::zero(); total];
    }
    // Every path below writes its whole block, so the output starts
    // uninitialised (no memset of a result the products overwrite).
    let mut out: Vec<T> = Vec::with_capacity(total);
    let mut chunks = out.spare_capacity_mut()[..total].chunks_exact_mut(m * n);
    for_each_offset(batch, [a.batch_strides, b.batch_strides], |[oa, ob]| {
        let c = chunks.next().expect("one output block per batch index");
        let block = Block {
            m,
            k,
            n,
            a,
            oa,
            b,
            ob,
        };
        if k == 1 {
            outer_product(block, c);
            return;
        }
        if (m == 1 || n == 1) && vector_product(block, c) {
            return;
        }
        if let Some(rows) = super::sparse_rows::SparseRows::find(block) {
            rows.write(c);
            return;
        }
        if m * n * k <= SMALL_GEMM {
            small_gemm(block, zeroed(c));
        } else if super::gemm512::write(block, c) {
            // An AVX-512 core and a `B` that fits in L2.
        } else {
            // SAFETY: `check` proved that every element of A (offset `oa`) and
            // B (offset `ob`) addressed by the strides lies inside its buffer;
            // `c` is an exclusive, contiguous m x n block, which the GEMM
            // writes in full without reading it (beta is zero).
            unsafe {
                T::gemm_raw(
                    m,
                    k,
                    n,
                    T::one(),
                    a.data.as_ptr().add(oa),
                    a.row_stride as isize,
                    a.col_stride as isize,
                    b.data.as_ptr().add(ob),
                    b.row_stride as isize,
                    b.col_stride as isize,
                    T::zero(),
                    c.as_mut_ptr().cast::<T>(),
                    n as isize,
                    1,
                )
            }
        }
    });
    assert!(
        chunks.next().is_none(),
        "transforms-kernels: batched_gemm: an output block was not visited"
    );
    // SAFETY: all `count` blocks of the first `total` elements were visited
    // (asserted above) and every path writes its whole block.
    unsafe { out.set_len(total) };
    out
}

/// Whether an operand with the batch strides `strides` is one matrix for
/// the whole `batch` (stride 0 on every dim that is not 1).
pub fn shared_by_batch(batch: &[usize], strides: &[usize]) -> bool {
    batch.iter().zip(strides).all(|(&n, &s)| n == 1 || s == 0)
}

/// The row stride at which a `batch` of `m x k` matrices (batch strides
/// `batch_strides`, row stride `row_stride`) read as one `(count * m) x k`
/// matrix, if they do: stacked row after row. With `m == 1` the row stride
/// is free (one row per matrix), so it is the stride of the batch itself,
/// as a batch of vectors promoted to rows has. The CUDA planner uses it too.
pub fn stacked_rows(
    batch: &[usize],
    m: usize,
    batch_strides: &[usize],
    row_stride: usize,
) -> Option<usize> {
    let row_stride = if m == 1 {
        // The innermost batch dim that is not 1 steps one row.
        match batch.iter().rposition(|&n| n != 1) {
            Some(d) => batch_strides[d],
            None => row_stride,
        }
    } else {
        row_stride
    };
    // Dims of size 1 may carry any stride.
    let stacked = contiguous_strides(batch)
        .into_iter()
        .map(|s| s * m * row_stride);
    batch
        .iter()
        .zip(batch_strides.iter().zip(stacked))
        .all(|(&n, (&h, w))| n == 1 || h == w)
        .then_some(row_stride)
}

/// `c` zero-filled, as initialised elements.
fn zeroed<T: Element>(c: &mut [MaybeUninit<T>]) -> &mut [T] {
    for w in c.iter_mut() {
        w.write(T::zero());
    }
    // SAFETY: every element was initialised just above, and
    // `MaybeUninit<T>` has the layout of `T`.
    unsafe { &mut *(std::ptr::from_mut(c) as *mut [T]) }
}

/// `c = a @ b` for an inner dim of 1: an outer product (a GEMM would pack
/// both operands for it).
fn outer_product<T: Element>(p: Block<'_, T>, c: &mut [MaybeUninit<T>]) {
    let Block {
        m, n, a, oa, b, ob, ..
    } = p;
    if n == 1 {
        // A scaled column: one loop, no per-row setup.
        let y = b.data[ob];
        if a.row_stride == 1 {
            for (o, &x) in c.iter_mut().zip(&a.data[oa..oa + m]) {
                o.write(x * y);
            }
        } else {
            for (i, o) in c.iter_mut().enumerate() {
                o.write(a.data[oa + i * a.row_stride] * y);
            }
        }
        return;
    }
    for (i, row) in c.chunks_exact_mut(n).enumerate() {
        let x = a.data[oa + i * a.row_stride];
        for (j, o) in row.iter_mut().enumerate() {
            o.write(x * b.data[ob + j * b.col_stride]);
        }
    }
}

/// Vector-matrix and matrix-vector products with unit-stride operands, as
/// dot products or row updates (a GEMM would pack the whole matrix for one
/// row or column). Returns false, writing nothing, for other layouts.
fn vector_product<T: Element>(p: Block<'_, T>, c: &mut [MaybeUninit<T>]) -> bool {
    let Block {
        m,
        k,
        n,
        a,
        oa,
        b,
        ob,
    } = p;
    if m == 1 && a.col_stride == 1 && b.row_stride == 1 {
        let c = zeroed(c);
        // c[j] = a . (column j of b), columns contiguous.
        super::dots::dots(&a.data[oa..oa + k], &b.data[ob..], b.col_stride, c);
        return true;
    }
    if m == 1 && b.col_stride == 1 {
        // Row updates, rows contiguous, with the partial sums of `dot` (lane
        // `l` takes the terms p = l mod L of the whole chunks, then the tail
        // in order): the same bits as the dot product with `t(b)`, so that
        // one expression computed either way agrees exactly.
        let whole = k / LANES * LANES;
        let mut lanes = vec![T::zero(); LANES * n];
        for p in 0..whole {
            let x = a.data[oa + p * a.col_stride];
            let row = ob + p * b.row_stride;
            let acc = &mut lanes[(p % LANES) * n..][..n];
            for (o, &y) in acc.iter_mut().zip(&b.data[row..row + n]) {
                *o = madd(*o, x, y);
            }
        }
        let mut tail = vec![T::zero(); n];
        for p in whole..k {
            let x = a.data[oa + p * a.col_stride];
            let row = ob + p * b.row_stride;
            for (o, &y) in tail.iter_mut().zip(&b.data[row..row + n]) {
                *o += x * y;
            }
        }
        for (j, o) in c.iter_mut().enumerate() {
            let sum: T = (0..LANES).map(|l| lanes[l * n + j]).sum();
            o.write(sum + tail[j]);
        }
        return true;
    }
    if n == 1 && a.col_stride == 1 && b.row_stride == 1 {
        let c = zeroed(c);
        // c[i] = (row i of a) . b, rows contiguous.
        super::dots::dots(&b.data[ob..ob + k], &a.data[oa..], a.row_stride, c);
        return true;
    }
    false
}

fn small_gemm<T: Element>(p: Block<'_, T>, c: &mut [T]) {
    let Block {
        m,
        k,
        n,
        a,
        oa,
        b,
        ob,
    } = p;
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let x = a.data[oa + i * a.row_stride + p * a.col_stride];
            let base = ob + p * b.row_stride;
            for (j, o) in row.iter_mut().enumerate() {
                *o += x * b.data[base + j * b.col_stride];
            }
        }
    }
}

/// Single matrix product of two contiguous row-major matrices:
/// `a` is `m x k`, `b` is `k x n`; returns the row-major `m x n` product.
///
/// # Panics
/// If the buffer lengths do not match the sizes.
pub fn gemm<T: Element>(m: usize, k: usize, n: usize, a: &[T], b: &[T]) -> Vec<T> {
    assert_eq!(
        a.len(),
        m * k,
        "transforms-kernels: gemm: a has the wrong length"
    );
    assert_eq!(
        b.len(),
        k * n,
        "transforms-kernels: gemm: b has the wrong length"
    );
    let a = GemmOperand {
        data: a,
        batch_strides: &[],
        row_stride: k,
        col_stride: 1,
    };
    let b = GemmOperand {
        data: b,
        batch_strides: &[],
        row_stride: n,
        col_stride: 1,
    };
    batched_gemm(&[], m, k, n, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        out
    }

    fn close(x: &[f64], y: &[f64]) -> bool {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(a, b)| (a - b).abs() < 1e-9 * (1.0 + b.abs()))
    }

    #[test]
    fn inner_dim_one_is_an_outer_product() {
        // A column read with a stride (as a folded batch of rows gives it)
        // and a strided row; then the m = 65536, n = 1 shape of a Hessian's
        // per-element scaling.
        for (m, n, rs) in [(37, 29, 3), (65536, 1, 3), (1000, 1, 1)] {
            let a: Vec<f64> = (0..m * rs).map(|i| (i % 17) as f64 - 8.5).collect();
            let b: Vec<f64> = (0..n * 2).map(|i| (i % 5) as f64 * 0.25 - 0.5).collect();
            let op_a = GemmOperand {
                data: &a,
                batch_strides: &[],
                row_stride: rs,
                col_stride: 1,
            };
            let op_b = GemmOperand {
                data: &b,
                batch_strides: &[],
                row_stride: 1,
                col_stride: 2,
            };
            let got = batched_gemm(&[], m, 1, n, op_a, op_b);
            let want = naive(m, 1, n, |i, _| a[i * rs], |_, j| b[j * 2]);
            assert_eq!(got, want, "m = {m}, n = {n}");
        }
    }

    /// One matrix (no batch) with the given strides.
    fn unbatched<T>(data: &[T], row_stride: usize, col_stride: usize) -> GemmOperand<'_, T> {
        GemmOperand {
            data,
            batch_strides: &[],
            row_stride,
            col_stride,
        }
    }

    #[test]
    fn both_gemm_backends_match_naive() {
        // f32 output rows of at most `GEMM_CRATE_MAX_N` go to the `gemm`
        // crate, wider ones to `matrixmultiply`, f64 all to `gemm` (see
        // `Element::gemm_raw`); each with
        // B row-major and transposed, A with padded rows, k past one block,
        // in f64 and f32 (the output starts uninitialised: any element left
        // unwritten or mixed with it fails).
        const W: usize = <f32 as crate::Element>::GEMM_CRATE_MAX_N;
        for &(m, k, n) in &[
            (300, 700, W),
            (300, 70, W + 1),
            (5, 520, 3),
            (1000, 33, 17),
            (9, 9, 130),
        ] {
            let lda = k + 3;
            let a: Vec<f64> = (0..m * lda)
                .map(|i| ((i * 7) % 23) as f64 * 0.1 - 1.1)
                .collect();
            let b: Vec<f64> = (0..k * n)
                .map(|i| ((i * 5) % 19) as f64 * 0.1 - 0.9)
                .collect();
            let want = naive(m, k, n, |i, p| a[i * lda + p], |p, j| b[p * n + j]);
            let bt: Vec<f64> = (0..k * n).map(|i| b[(i % k) * n + i / k]).collect();
            for (db, rb, cb) in [(&b, n, 1), (&bt, 1, k)] {
                let got = batched_gemm(&[], m, k, n, unbatched(&a, lda, 1), unbatched(db, rb, cb));
                assert!(
                    close(&got, &want),
                    "f64 {m} x {k} x {n}, b strides {rb}, {cb}"
                );
                let (a32, b32): (Vec<f32>, Vec<f32>) = (
                    a.iter().map(|&x| x as f32).collect(),
                    db.iter().map(|&x| x as f32).collect(),
                );
                let (a32, b32) = (unbatched(&a32, lda, 1), unbatched(&b32, rb, cb));
                let got = batched_gemm(&[], m, k, n, a32, b32);
                let scale = k as f64;
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(&g, w)| (f64::from(g) - w).abs() < 1e-5 * scale),
                    "f32 {m} x {k} x {n}, b strides {rb}, {cb}"
                );
            }
        }
    }

    #[test]
    fn small_hand_computed() {
        let c = gemm(2, 2, 2, &[1.0f32, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]);
        assert_eq!(c, vec![19.0, 22.0, 43.0, 50.0]);
    }

    #[test]
    fn large_and_transposed_operands_match_naive() {
        for &(m, k, n) in &[(3, 4, 5), (17, 33, 9), (40, 1, 40)] {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want = naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]);
            assert!(close(&gemm(m, k, n, &a, &b), &want));
            // Use `a` as the transpose of a k x m matrix stored column-wise:
            // A^T^T, i.e. read a (m x k) with strides (1, m) means the buffer is k x m.
            let at: Vec<f64> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let op_a = GemmOperand {
                data: &at,
                batch_strides: &[],
                row_stride: 1,
                col_stride: m,
            };
            let op_b = GemmOperand {
                data: &b,
                batch_strides: &[],
                row_stride: n,
                col_stride: 1,
            };
            assert!(close(&batched_gemm(&[], m, k, n, op_a, op_b), &want));
        }
    }

    #[test]
    fn vector_products_in_every_layout_match_naive() {
        // Row vector times matrix and matrix times column vector, each operand
        // row-major or transposed (k = 37: a remainder after the 8 lanes).
        for &(m, k, n) in &[(1, 37, 23), (23, 37, 1), (1, 5, 1), (1, 64, 300)] {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want = naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]);
            let at: Vec<f64> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let bt: Vec<f64> = (0..k * n).map(|i| b[(i % k) * n + i / k]).collect();
            for (da, ra, ca) in [(&a, k, 1), (&at, 1, m)] {
                for (db, rb, cb) in [(&b, n, 1), (&bt, 1, k)] {
                    let op = |data, row_stride, col_stride| GemmOperand {
                        data,
                        batch_strides: &[],
                        row_stride,
                        col_stride,
                    };
                    let got = batched_gemm(&[], m, k, n, op(da, ra, ca), op(db, rb, cb));
                    assert!(
                        close(&got, &want),
                        "{m}x{k}x{n}, strides a ({ra}, {ca}) b ({rb}, {cb})"
                    );
                }
            }
        }
    }

    #[test]
    fn a_vector_product_has_the_same_bits_in_either_layout() {
        // x @ B (row updates) and x @ t(t(B)) read as columns (dot products).
        let (k, n) = (517, 19);
        let x: Vec<f32> = (0..k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let bt: Vec<f32> = (0..k * n).map(|i| b[(i % k) * n + i / k]).collect();
        let op = |data, row_stride, col_stride| GemmOperand {
            data,
            batch_strides: &[],
            row_stride,
            col_stride,
        };
        let rows = batched_gemm(&[], 1, k, n, op(&x, k, 1), op(&b, n, 1));
        let cols = batched_gemm(&[], 1, k, n, op(&x, k, 1), op(&bt, 1, k));
        assert_eq!(rows, cols);
    }

    #[test]
    fn batched_with_broadcast_operand() {
        // A: batch of 3 matrices 2x2, B: one matrix broadcast over the batch.
        let a: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let b = [1.0f32, 0.0, 1.0, 1.0];
        let op_a = GemmOperand {
            data: &a,
            batch_strides: &[4],
            row_stride: 2,
            col_stride: 1,
        };
        let op_b = GemmOperand {
            data: &b,
            batch_strides: &[0],
            row_stride: 2,
            col_stride: 1,
        };
        let c = batched_gemm(&[3], 2, 2, 2, op_a, op_b);
        // [[x0, x1],[x2,x3]] @ [[1,0],[1,1]] = [[x0+x1, x1], [x2+x3, x3]]
        assert_eq!(c, vec![1., 1., 5., 3., 9., 5., 13., 7., 17., 9., 21., 11.]);
    }

    #[test]
    fn shared_b_folds_into_one_gemm_and_matches_a_loop() {
        // A: [2, 3] batch of 9x20 (row-major, and also transposed storage),
        // B: one 20x7 matrix shared by the batch.
        let (m, k, n) = (9, 20, 7);
        let a: Vec<f64> = (0..6 * m * k).map(|i| (i as f64 * 0.13).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.07).cos()).collect();
        let op_b = GemmOperand {
            data: &b,
            batch_strides: &[0, 0],
            row_stride: n,
            col_stride: 1,
        };
        for (row_stride, col_stride, folded) in [(k, 1, true), (1, m, false)] {
            let op_a = GemmOperand {
                data: &a,
                batch_strides: &[3 * m * k, m * k],
                row_stride,
                col_stride,
            };
            let c = batched_gemm(&[2, 3], m, k, n, op_a, op_b);
            let want: Vec<f64> = (0..6)
                .flat_map(|t| {
                    let off = t * m * k;
                    naive(
                        m,
                        k,
                        n,
                        |i, p| a[off + i * row_stride + p * col_stride],
                        |p, j| b[p * n + j],
                    )
                })
                .collect();
            assert!(close(&c, &want), "folded = {folded}");
        }
        // A batch dim of size 1 with a zero stride still folds.
        let op_a = GemmOperand {
            data: &a,
            batch_strides: &[m * k, 0],
            row_stride: k,
            col_stride: 1,
        };
        let op_b = GemmOperand {
            data: &b,
            batch_strides: &[0, 0],
            row_stride: n,
            col_stride: 1,
        };
        let c = batched_gemm(&[6, 1], m, k, n, op_a, op_b);
        let want: Vec<f64> = (0..6)
            .flat_map(|t| {
                naive(
                    m,
                    k,
                    n,
                    |i, p| a[t * m * k + i * k + p],
                    |p, j| b[p * n + j],
                )
            })
            .collect();
        assert!(close(&c, &want));
    }

    #[test]
    fn a_batch_of_vectors_folds_into_rows() {
        // A: a [4, 1, 3] batch of 1 x k rows (vectors promoted to rows carry
        // any row stride), B shared: one (12 x k) @ (k x n) product.
        let (k, n) = (10, 6);
        let a: Vec<f64> = (0..12 * k).map(|i| (i as f64 * 0.29).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.41).cos()).collect();
        let op_b = GemmOperand {
            data: &b,
            batch_strides: &[0, 0, 0],
            row_stride: 1,
            col_stride: k,
        };
        for row_stride in [0, 1, k, 7] {
            let op_a = GemmOperand {
                data: &a,
                batch_strides: &[3 * k, 0, k],
                row_stride,
                col_stride: 1,
            };
            assert_eq!(
                stacked_rows(&[4, 1, 3], 1, op_a.batch_strides, op_a.row_stride),
                Some(k)
            );
            let c = batched_gemm(&[4, 1, 3], 1, k, n, op_a, op_b);
            let want: Vec<f64> = (0..12)
                .flat_map(|t| naive(1, k, n, |_, p| a[t * k + p], |p, j| b[j * k + p]))
                .collect();
            assert!(close(&c, &want), "row stride {row_stride}");
        }
        // Rows that are not one after the other do not fold.
        let op_a = GemmOperand {
            data: &a,
            batch_strides: &[k, 4 * k],
            row_stride: 1,
            col_stride: 1,
        };
        assert_eq!(
            stacked_rows(&[4, 3], 1, op_a.batch_strides, op_a.row_stride),
            None
        );
        let op_b = GemmOperand {
            batch_strides: &[0, 0],
            ..op_b
        };
        let c = batched_gemm(&[4, 3], 1, k, n, op_a, op_b);
        let want: Vec<f64> = (0..4)
            .flat_map(|i| (0..3).map(move |j| i * k + j * 4 * k))
            .flat_map(|off| naive(1, k, n, |_, p| a[off + p], |p, j| b[j * k + p]))
            .collect();
        assert!(close(&c, &want));
    }

    #[test]
    #[should_panic(expected = "past the end")]
    fn bad_strides_are_rejected() {
        let a = [1.0f32; 4];
        let op = GemmOperand {
            data: &a,
            batch_strides: &[4],
            row_stride: 2,
            col_stride: 1,
        };
        batched_gemm(&[2], 2, 2, 2, op, op);
    }
}
