//! A forward-mode Jacobian written in its final layout: `jacfwd` computes
//! the tangents of all basis elements at once, the basis dim leading, and
//! moves that dim last at the end. When the tangent is a seed product
//! (`diag_matmul`: rows of a matrix) followed by elementwise ops whose other
//! operands are shared by every basis element, as for any linear layer and
//! activation, the compiler calls [`diag_matmul_map_last`] instead
//! (`fuse::Group::MovedLast`): one pass over the matrix writes the result
//! transposed, where the separate ops transposed the matrix, scaled its
//! rows, applied the elementwise ops and transposed back.

use super::{broadcast_like, diag_matmul, diag_matmul_right, expand_dim0_like, movedim};
use crate::float::Float;
use crate::fused::{fused1, fused1_src, fused2, fused2_src, fused3, fused3_src};
use crate::shape::fail;
use crate::tensor::Tensor;
use transforms_kernels::cpu;

/// The operands of `diag_matmul(u, like, t, b, nb, b_t)` (with `right`,
/// of `diag_matmul_right(u, like, t, b, nb)`, the seed on `b`'s right;
/// `b_t` is then false), and `bl` when its result is then broadcast like
/// `bl` (at `nb + 1` batch dims).
pub struct DiagMm<'a, T: Float> {
    pub u: &'a Tensor<T>,
    pub like: &'a Tensor<T>,
    pub t: Option<&'a Tensor<T>>,
    pub b: &'a Tensor<T>,
    pub nb: usize,
    pub b_t: bool,
    pub bl: Option<&'a Tensor<T>>,
    pub right: bool,
}

/// `movedim(expand_dim0_like(y, r, nb), 0, -1, nb)` where `y` is `f`
/// applied elementwise (at `nb + 1` batch dims) to the product `p` (see
/// [`DiagMm`]) at operand position `slot` and `others` at the other
/// positions in order; `f` takes `p`'s value first. `cuda` is the chain as
/// CUDA C over `x0, x1, ..` in operand order, for tensors on a GPU (as in
/// `fused*_src`).
pub fn diag_matmul_map_last<T: Float, const M: usize>(
    dm: DiagMm<'_, T>,
    slot: usize,
    others: [&Tensor<T>; M],
    r: &Tensor<T>,
    cuda: Option<&str>,
    f: impl Fn(T, [T; M]) -> T + Sync,
) -> Tensor<T> {
    if slot > M {
        fail!(
            "diag_matmul_map_last",
            [r.shape()],
            "operand slot {slot} of {}",
            M + 1
        );
    }
    if let Some(out) = one_pass(&dm, &others, r, &f) {
        return out;
    }
    // The separate ops, as the compiler would have emitted them.
    let p = if dm.right {
        diag_matmul_right(dm.u, dm.like, dm.t, dm.b, dm.nb)
    } else {
        diag_matmul(dm.u, dm.like, dm.t, dm.b, dm.nb, dm.b_t)
    };
    let p = match dm.bl {
        Some(bl) => broadcast_like(&p, bl, dm.nb + 1),
        None => p,
    };
    let y = chain_over(
        "diag_matmul_map_last",
        &p,
        slot,
        &others,
        dm.nb + 1,
        cuda,
        &f,
    );
    let y = expand_dim0_like(&y, r, dm.nb);
    movedim(&y, 0, -1, dm.nb)
}

/// `f` applied elementwise (at `nb` batch dims) to `p` at operand position
/// `slot` and `others` at the other positions in order (`f` takes `p`'s
/// value first): the separate fused op the compiler would have emitted,
/// with `cuda` its chain as CUDA C (see `fused*_src`). The fallback of the
/// one-pass seed-product chains.
pub(super) fn chain_over<T: Float, const M: usize>(
    op: &str,
    p: &Tensor<T>,
    slot: usize,
    others: &[&Tensor<T>; M],
    nb: usize,
    cuda: Option<&str>,
    f: &impl Fn(T, [T; M]) -> T,
) -> Tensor<T> {
    let mut ts: Vec<&Tensor<T>> = others.to_vec();
    ts.insert(slot, p);
    // Operand values in order -> (p's value, the others').
    let split = |xs: &[T]| -> (T, [T; M]) {
        let o = std::array::from_fn(|q| xs[if q < slot { q } else { q + 1 }]);
        (xs[slot], o)
    };
    let g = |xs: &[T]| {
        let (p, o) = split(xs);
        f(p, o)
    };
    match (ts.as_slice(), cuda) {
        ([a], None) => fused1(a, |x| g(&[x])),
        ([a], Some(src)) => fused1_src(a, |x| g(&[x]), src, &[]),
        ([a, b], None) => fused2(a, b, nb, |x, y| g(&[x, y])),
        ([a, b], Some(src)) => fused2_src(a, b, nb, |x, y| g(&[x, y]), src, &[]),
        ([a, b, c], None) => fused3(a, b, c, nb, |x, y, z| g(&[x, y, z])),
        ([a, b, c], Some(src)) => fused3_src(a, b, c, nb, |x, y, z| g(&[x, y, z]), src, &[]),
        _ => fail!(
            op,
            [p.shape()],
            "takes one to three operands, not {}",
            M + 1
        ),
    }
}

/// The one-pass form, for the layout of a dense layer's Jacobian: no batch
/// dims, a basis over a vector of `k` elements scaled by `u` (`[k]`, `[1]`
/// or a scalar), a `[k, n]` matrix (given as `[n, k]` with `b_t`, or with
/// `right`: the seed on the right of an `[n, k]` `b` is its transpose's
/// rows, the same product for a vector seed), and the
/// other operands one value per output element (`[1, n]`); all on the CPU.
/// The result is `[n, k]`: `out[i, j] = f(u[j] * b[j, i], others[i])`.
fn one_pass<T: Float, const M: usize>(
    dm: &DiagMm<'_, T>,
    others: &[&Tensor<T>; M],
    r: &Tensor<T>,
    f: &(impl Fn(T, [T; M]) -> T + Sync),
) -> Option<Tensor<T>> {
    let cpu = crate::Device::Cpu;
    let on_cpu = [dm.u, dm.like, dm.b, r]
        .iter()
        .chain(others.iter())
        .chain(dm.bl.iter())
        .all(|x| x.device() == cpu);
    let &[k] = dm.like.shape() else {
        return None;
    };
    let &[rows, cols] = dm.b.shape() else {
        return None;
    };
    // Read as `[n, k]`: transposed (`b_t`), or the seed on the right.
    let b_t = dm.b_t || dm.right;
    let (n, inner) = if b_t { (rows, cols) } else { (cols, rows) };
    let u_ok = matches!(dm.u.shape(), [] | [1]) || dm.u.shape() == [k];
    let shared = |x: &Tensor<T>| x.shape() == [1, n];
    let bl_ok = dm.bl.is_none_or(|bl| shared(bl) || bl.shape() == [k, n]);
    let fits = on_cpu
        && dm.nb == 0
        && dm.t.is_none()
        && u_ok
        && inner == k
        && bl_ok
        && others.iter().all(|x| shared(x))
        && r.shape().first() == Some(&k);
    if !fits {
        return None;
    }
    // Rows of the result are rows of `b` read as `[n, k]`.
    let b = if b_t { dm.b.clone() } else { super::t(dm.b, 0) };
    let b = b.as_slice();
    let u = dm.u.as_slice();
    // One scale for every column (a scalar, NaN included, or an identity
    // seed's ones).
    let same = match u {
        &[s] => Some(s),
        _ => u.first().filter(|&&s| cpu::all_equal(u, s)).copied(),
    };
    let others: [&[T]; M] = others.map(|x| x.as_slice());
    // Chunks of whole rows, a few thousand elements each: one row per
    // chunk costs more in chunk handling than the row itself.
    let rows = (4096 / k.max(1)).max(1);
    let out = cpu::build_chunks(n * k, rows * k, |range, sink| {
        let (first, count) = (range.start / k, range.len() / k);
        // The other operands are the same along a row.
        let o = |i: usize| -> [T; M] { std::array::from_fn(|q| others[q][i]) };
        if let Some(s) = same {
            let src = (&b[first * k..], k);
            sink.extend_mapped_rows(src, (count, k), |r| o(first + r), |x, o| f(s * x, *o));
            return;
        }
        // Otherwise `u` is `[k]` (a one-element `u` is `same`).
        for i in first..first + count {
            let row = &b[i * k..(i + 1) * k];
            let o = o(i);
            sink.extend(row.iter().zip(u).map(|(&x, &s)| f(s * x, o)));
        }
    });
    Some(Tensor::from_parts(vec![n, k], out))
}
