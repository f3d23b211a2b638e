//! The products of a structured seed on the right of a matrix: `m @ diag(u,
//! like, t)` (`jacfwd` of `m.matmul(x)` in `x`) and `matmul_tb(m, diag(..),
//! b_like)` (its reverse mode, `jacrev`). For a vector seed (`like` 1-D)
//! and a matrix `m` each basis element picks one column (or row) of `m`,
//! scaled: the same gathers as the seed on the left ([`diag_matmul`] of
//! `m`, read transposed or as stored), batch dims too (`vmap` of either),
//! unless the reverse-mode product sums over one. Other ranks, or a seed
//! summed to a smaller shape, take the dense seed and the general product
//! (what the compiler emitted before).

use super::diag::keep_all;
use super::{diag, diag_matmul, matmul, matmul_tb, unsqueeze};
use crate::float::Float;
use crate::shape::{Shape, broadcast_left, split};
use crate::tensor::Tensor;

/// For a vector seed (`like`'s per-example part 1-D, `t` absent or of
/// `like`'s shape) and a matrix `m`: `like`'s and `m`'s per-example shapes
/// and the product's batch dims (`u`'s, `like`'s and `m`'s broadcast).
fn vector_seed<'a, T: Float>(
    u: &Tensor<T>,
    like: &'a Tensor<T>,
    t: Option<&Tensor<T>>,
    m: &'a Tensor<T>,
    nb: usize,
) -> Option<(&'a [usize], &'a [usize], Shape)> {
    let all = [u.shape(), like.shape(), m.shape()];
    let (ub, _) = split("diag_matmul", u.shape(), nb, &all);
    let (lb, lp) = split("diag_matmul", like.shape(), nb, &all);
    let (mb, mp) = split("diag_matmul", m.shape(), nb, &all);
    let plain = t.is_none_or(|t| t.shape() == like.shape());
    if !plain || lp.len() != 1 || mp.len() != 2 {
        return None;
    }
    let batch = broadcast_left(&broadcast_left(ub, lb)?, mb)?;
    Some((lp, mp, batch))
}

/// `matmul(m, diag(u, like, t))` with the basis dim as a batch dim at `nb`:
/// for a vector seed, `m e_j u_j` is column `j` of `m` scaled by `u_j`,
/// which is row `j` of the seed's product with `t(m)`.
pub fn diag_matmul_right<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    m: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    crate::device::same_device!("diag_matmul_right", [u, like, m]);
    if let Some(([k], [_, cols], _)) = vector_seed(u, like, t, m, nb)
        && k == cols
    {
        return diag_matmul(u, like, t, m, nb, true);
    }
    let c = diag(u, like, t, nb, keep_all(nb));
    matmul(&unsqueeze(m, 0, nb), &c, nb + 1)
}

/// `matmul_tb(m, diag(u, like, t), b_like)` (`m`'s transpose times the
/// seed, summed to `b_like`; bit `i` of `keep` as in `matmul_tb`) with the
/// basis dim as a batch dim at `nb`: for a vector seed, `t(m) e_j u_j` is
/// row `j` of `m` scaled by `u_j`, the seed's product with `m`.
pub fn diag_matmul_tb<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    m: &Tensor<T>,
    b_like: &Tensor<T>,
    nb: usize,
    keep: u32,
) -> Tensor<T> {
    crate::device::same_device!("diag_matmul_tb", [u, like, m, b_like]);
    // Nothing to sum: `b_like` has the product's batch dims.
    let all = [u.shape(), like.shape(), m.shape(), b_like.shape()];
    if let Some(([k], [rows, cols], batch)) = vector_seed(u, like, t, m, nb)
        && let (lb, [n]) = split("diag_matmul_tb", b_like.shape(), nb, &all)
        && (k, cols) == (rows, n)
        && lb == &batch[..]
    {
        return diag_matmul(u, like, t, m, nb, false);
    }
    let c = diag(u, like, t, nb, keep_all(nb));
    matmul_tb(
        &unsqueeze(m, 0, nb),
        &c,
        &unsqueeze(b_like, 0, nb),
        nb + 1,
        keep | (1 << nb),
    )
}
