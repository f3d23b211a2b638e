//! A batched sum computed in blocks of rows of its outermost batch dim.
//!
//! Where a program adds a batched product to a sum that nothing reads
//! afterwards (a Hessian's terms, `h = h + p`), the generated code calls
//! [`add_rows`] with the product as a closure over a block of rows: each
//! block of `p` (and of the products and seeds it is made from) is
//! computed and added into the sum's buffer, so `p` is never whole. The
//! closure slices its batched operands with [`rows_of`] and builds its
//! seeds' rows with [`diag_rows`]; [`batch_rows`] gives the dim's size.

use std::ops::Range;

use transforms_kernels::cpu;

use super::diag::on_cpu;
use crate::elem;
use crate::float::Float;
use crate::shape::fail;
use crate::tensor::Tensor;

/// A result up to this size is one block; larger ones go in blocks of at
/// least this many bytes...
const BLOCK_BYTES: usize = 64 * 1024;
/// ...and at most this many blocks: a block's temporaries (a seed's rows,
/// the products between) are about a quarter of the result each, and each
/// block repeats a product's fixed costs (checks of its whole right-hand
/// matrix: quad's Hessian at n = 256 took 105 µs whole, 120 µs in 4
/// blocks, 200 µs in 16).
const MAX_BLOCKS: usize = 4;

/// The size of the outermost batch dim of a block's operands: the largest
/// leading size among the `batched` operands (the others have size 1 there
/// and broadcast) and the seeds' basis sizes (`likes`' element counts).
pub fn batch_rows<T: Float>(batched: &[&Tensor<T>], likes: &[&Tensor<T>]) -> usize {
    let lead = batched
        .iter()
        .map(|t| t.shape().first().copied().unwrap_or(1));
    lead.chain(likes.iter().map(|l| l.numel()))
        .max()
        .unwrap_or(1)
}

/// Rows `r` of `x`'s dim 0 where `x` has `rows` of them (a view, no copy);
/// `x` itself where it has one row (it broadcasts) or `r` is every row.
pub fn rows_of<T: Float>(x: &Tensor<T>, r: Range<usize>, rows: usize) -> Tensor<T> {
    if x.shape().first() != Some(&rows) || r.len() == rows {
        return x.clone();
    }
    if on_cpu(&[x]) {
        x.rows0(r)
    } else {
        super::narrow(x, 0, r.start as isize, r.len(), 0)
    }
}

/// Rows `r` of `diag(u, like)` (no batch dims, no sum): row `i` is the
/// basis element `r.start + i` of `like`'s shape times `u`.
pub fn diag_rows<T: Float>(u: &Tensor<T>, like: &Tensor<T>, r: Range<usize>) -> Tensor<T> {
    let n = like.numel();
    if r.start == 0 && r.end == n {
        return super::diag(u, like, None, 0, 0);
    }
    if r.end > n {
        fail!(
            "diag",
            [u.shape(), like.shape()],
            "rows {}..{} are out of range for {n} elements",
            r.start,
            r.end
        );
    }
    let finite = || u.as_slice().iter().all(|v| v.is_finite());
    if on_cpu(&[u, like]) && u.shape() == like.shape() && finite() {
        // Zeros with `u` on the block's part of the diagonal (`0 * u` is 0
        // for finite `u`: the values of the basis times `u`).
        let mut data = vec![T::zero(); r.len() * n];
        for (i, j) in r.clone().enumerate() {
            data[i * n + j] = u.as_slice()[j];
        }
        return Tensor::from_parts([&[r.len()][..], like.shape()].concat(), data);
    }
    let e = super::basis_rows(like, r.start, r.len());
    super::mul(&e, &super::unsqueeze(u, 0, 0), 1)
}

/// `acc + p` (broadcast over `nb` batch dims as `ops::add`), where
/// `block(r)` is rows `r` of `p`'s outermost batch dim and `p` has
/// `rows` of them: on the CPU, when `p` has `acc`'s shape, each block is
/// added into `acc`'s buffer as it is made (`acc` is copied first if it
/// is shared), so at most one block of `p` exists at a time. Otherwise
/// (a GPU, a `p` that broadcasts `acc` to a larger shape) `p` is made
/// whole and added.
///
/// # Panics
/// If the blocks disagree with each other on their shape (an internal
/// error), or the shapes do not broadcast (as `ops::add`).
pub fn add_rows<T: Float>(
    mut acc: Tensor<T>,
    rows: usize,
    nb: usize,
    mut block: impl FnMut(Range<usize>) -> Tensor<T>,
) -> Tensor<T> {
    let whole = |acc: &Tensor<T>, p: &Tensor<T>| super::add(acc, p, nb);
    if !on_cpu(&[&acc]) || acc.shape().first() != Some(&rows) || rows == 0 {
        return whole(&acc, &block(0..rows));
    }
    let row = acc.numel() / rows;
    let bytes = acc.numel() * std::mem::size_of::<T>();
    let step = if bytes <= BLOCK_BYTES {
        rows
    } else {
        let by_size = BLOCK_BYTES / (row * std::mem::size_of::<T>()).max(1);
        by_size.max(rows.div_ceil(MAX_BLOCKS)).clamp(1, rows)
    };
    let shape = acc.shape().to_vec();
    let mut dst: Option<&mut [T]> = None;
    for start in (0..rows).step_by(step) {
        let r = start..(start + step).min(rows);
        let p = block(r.clone());
        let fits =
            on_cpu(&[&p]) && p.shape().first() == Some(&r.len()) && p.shape()[1..] == shape[1..];
        if dst.is_none() {
            if !fits {
                // The first block tells: `p` is not of `acc`'s shape.
                let p = if r.len() == rows { p } else { block(0..rows) };
                return whole(&acc, &p);
            }
            dst = Some(acc.as_mut_slice());
        }
        if !fits {
            fail!(
                "add",
                [&shape[..], p.shape()],
                "internal error: block {}..{} of a sum has another shape",
                r.start,
                r.end
            );
        }
        let d = &mut dst.as_deref_mut().expect("set above")[r.start * row..r.end * row];
        let ps = p.as_slice();
        cpu::wide(
            #[inline(always)]
            move || {
                for (a, &b) in d.iter_mut().zip(ps) {
                    *a = elem::add(*a, b);
                }
            },
        );
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops;

    fn close(a: &Tensor, b: &Tensor) {
        assert_eq!(a.shape(), b.shape());
        assert_eq!(a.as_slice(), b.as_slice());
    }

    #[test]
    fn blocks_of_a_sum_equal_the_whole_sum() {
        // A product read by rows of its batch dim, big enough for blocks
        // (`[n, 1, n]`, n = 200: 160 KB), and small enough for one.
        for n in [200usize, 20] {
            let a = Tensor::randn(&[n, 1, n], 1);
            let m = Tensor::randn(&[1, 1, n, n], 2);
            let acc = Tensor::randn(&[n, 1, n], 3);
            let want = ops::add(&acc, &ops::matmul(&a, &m, 2), 2);
            let rows = batch_rows(&[&a, &m], &[]);
            assert_eq!(rows, n);
            let mut calls = 0;
            let got = add_rows(acc.clone(), rows, 2, |r| {
                calls += 1;
                ops::matmul(&rows_of(&a, r.clone(), rows), &rows_of(&m, r, rows), 2)
            });
            close(&got, &want);
            assert_eq!(calls > 1, n == 200, "{calls} blocks for n = {n}");
            // `acc` was shared (cloned above): it is left as it was.
            assert_eq!(acc.shape(), &[n, 1, n]);
        }
    }

    #[test]
    fn a_product_that_broadcasts_the_sum_is_added_whole() {
        let acc = Tensor::randn(&[1, 300], 4);
        let p = Tensor::randn(&[300, 300], 5);
        let want = ops::add(&acc, &p, 1);
        // `acc` has one row, `p` 300: no blocks.
        let got = add_rows(acc.clone(), 300, 1, |r| rows_of(&p, r, 300));
        close(&got, &want);
        // `acc` with 300 rows but `p` wider: the first block tells.
        let acc = Tensor::randn(&[300, 1], 6);
        let want = ops::add(&acc, &p, 1);
        let got = add_rows(acc, 300, 1, |r| rows_of(&p, r, 300));
        close(&got, &want);
    }

    #[test]
    fn seed_rows_are_rows_of_the_seed() {
        let like = Tensor::randn(&[3, 4], 7);
        let u = Tensor::randn(&[3, 4], 8);
        let full = ops::diag(&u, &like, None, 0, 0);
        for r in [0..12, 0..5, 5..12, 7..8] {
            close(&diag_rows(&u, &like, r.clone()), &rows_of(&full, r, 12));
        }
        // A non-finite scale: the basis times `u` (NaN off the diagonal).
        let v = Tensor::from_shape_vec(&[3], vec![1.0, f32::INFINITY, 2.0]).unwrap();
        let like = Tensor::randn(&[3], 9);
        let full = ops::diag(&v, &like, None, 0, 0);
        let got = diag_rows(&v, &like, 1..3);
        let want = rows_of(&full, 1..3, 3);
        assert_eq!(got.shape(), want.shape());
        for (a, b) in got.as_slice().iter().zip(want.as_slice()) {
            assert!(a == b || (a.is_nan() && b.is_nan()), "{a} vs {b}");
        }
    }
}
