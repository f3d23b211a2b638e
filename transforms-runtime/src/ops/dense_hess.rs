//! A dense layer's Hessian in one call. `hessian` of `act(linear(x, w, b))`
//! (`jacfwd` of `jacrev`) emits the forward seed's product `diag_matmul(seed,
//! x, t(w))` (`w`'s columns, one per input), an elementwise chain of it with
//! per-output values (`act''(y)`), and the reverse seed product in the
//! Hessian's layout (`diag_matmul_ta_swapped`), which first gathers the
//! chain's `[.., input, output]` values into `[.., output, input]` order.
//! Here the chain's values are computed in that order directly: nothing of
//! the `[.., input, output]` intermediates is written.

use transforms_kernels::cpu;

use super::diag::on_cpu;
use crate::float::Float;
use crate::shape::joined;
use crate::tensor::Tensor;

/// The tensors of [`dense_hess`]: `seed`, `x` and `w` of the forward seed
/// product `diag_matmul(seed, x, None, w, nb - 1, true)` (`w` as stored,
/// `[n, k]`, or `[1, n, k]` with a batch dim: one layer for the batch), and
/// the shape references of the reverse product `diag_matmul_ta_swapped(u,
/// like, t, unsqueeze(w, 0, 0), a_like, nb, 1 << (nb - 1), true, ref_o,
/// ref_k)`.
pub struct DenseHess<'a, T: Float> {
    pub seed: &'a Tensor<T>,
    pub x: &'a Tensor<T>,
    pub w: &'a Tensor<T>,
    pub like: &'a Tensor<T>,
    pub t: Option<&'a Tensor<T>>,
    pub a_like: &'a Tensor<T>,
    pub ref_o: &'a Tensor<T>,
    pub ref_k: &'a Tensor<T>,
    pub nb: usize,
}

/// Rows of at most this many inputs keep their scales on the stack.
const SHORT: usize = 64;

/// Where operand `s` reads its value for output `o` of batch block `b`:
/// `b * .0 + o * .1`, for a shape `lead ++ [1, n | 1]` (`lead` of 1 or
/// `count`, or absent).
fn per_output(s: &[usize], lead: usize, count: usize, n: usize) -> Option<(usize, usize)> {
    if s.len() != lead + 2 || s[lead] != 1 {
        return None;
    }
    let per = match s[lead + 1] {
        m if m == n => 1,
        1 => 0,
        _ => return None,
    };
    let block = match s[..lead] {
        [] | [1] => 0,
        [c] if c == count => n * per + (1 - per),
        _ => return None,
    };
    Some((block, per))
}

/// The Hessian `H[.., o, j, i] = f(w[o, j], [g[.., o], ..]) * w[o, i]` of
/// a dense layer: what `diag_matmul_ta_swapped` writes for the scales
/// `f(p, g..)`, `p` the forward seed product of an all-ones seed broadcast
/// over the outputs, `g` the chain's other operands (each one value per
/// output and batch block), bit for bit.
///
/// The compiler calls it for `hessian` of an elementwise function of a
/// layer (see `fuse::Group::DenseHess`), with its separate ops as the
/// fallback: `None` unless every tensor is on the CPU, `nb` is 1 or 2, the
/// seed is all ones of `x`'s shape, and the shapes are those of one layer.
pub fn dense_hess<T: Float, const M: usize>(
    h: DenseHess<'_, T>,
    others: [&Tensor<T>; M],
    f: impl Fn(T, [T; M]) -> T + Sync,
) -> Option<Tensor<T>> {
    let DenseHess {
        seed,
        x,
        w,
        like,
        t,
        a_like,
        ref_o,
        ref_k,
        nb,
    } = h;
    let all = [seed, x, w, like, a_like, ref_o, ref_k];
    if !on_cpu(&all) || !on_cpu(&others) || t.is_some_and(|t| !on_cpu(&[t])) {
        return None;
    }
    let lead = nb.checked_sub(1).filter(|&l| l <= 1)?;
    let (count, k, n) = match (lead, x.shape(), w.shape()) {
        (0, &[k], &[n, k2]) if k == k2 => (1, k, n),
        (1, &[c, k], &[1, n, k2]) if k == k2 => (c, k, n),
        _ => return None,
    };
    if count == 0 || n == 0 || k == 0 {
        return None;
    }
    // The reverse product's shapes as one layer gives them: `like` and `t`
    // one value per output, `a_like` one input, the references' sizes the
    // basis and the swapped dim.
    let lead_dims = &x.shape()[..lead];
    let per_out = joined(&[lead_dims, &[1, n]]);
    let shapes_fit = seed.shape() == x.shape()
        && like.shape() == &per_out[..]
        && t.is_none_or(|t| t.shape() == &per_out[..])
        && a_like.shape() == &joined(&[lead_dims, &[1, k]])[..]
        && ref_o.shape().get(nb) == Some(&n)
        && ref_k.shape().get(lead) == Some(&k);
    if !shapes_fit || !cpu::all_equal(seed.as_slice(), T::one()) {
        return None;
    }
    let mut at = [(0, 0); M];
    for (q, o) in others.iter().enumerate() {
        at[q] = per_output(o.shape(), lead, count, n)?;
    }
    let data: [&[T]; M] = std::array::from_fn(|q| others[q].as_slice());
    let ws = w.as_slice();
    // One chunk per output `o` of a batch block: its `k` scales, then the
    // outer product with row `o` of `w`.
    let out = cpu::build_chunks(count * n * k * k, k * k, |range, sink| {
        let block = range.start / (k * k);
        let (b, o) = (block / n, block % n);
        let row = &ws[o * k..][..k];
        let g: [T; M] = std::array::from_fn(|q| data[q][b * at[q].0 + o * at[q].1]);
        // On the stack for short rows (an allocation per output would cost
        // as much as the row's work).
        let mut short = [T::zero(); SHORT];
        let mut long = Vec::new();
        let scales: &mut [T] = if k <= SHORT {
            &mut short[..k]
        } else {
            long.resize(k, T::zero());
            &mut long
        };
        for (s, &p) in scales.iter_mut().zip(row) {
            *s = f(p, g);
        }
        sink.extend_outer(row, scales);
    });
    Some(Tensor::from_parts(joined(&[lead_dims, &[n, k, k]]), out))
}
