//! Structured Jacobian seeds. `diag(u, like, t)` is the identity basis of
//! `like`'s per-example space scaled by `u` and summed down to `t`'s shape:
//! `sum_to(basis(like) * u, t)`, with the basis index `N = numel(like pe)` as
//! a new dim at position `nb` (a batch dim for the ops that follow). The
//! compiler keeps such seeds symbolic and calls the products below instead of
//! materialising them, so `diag(u) @ W` is a row scaling, not a dense GEMM
//! (the reverse-mode product, `diag_matmul_ta`, is in `diag_ta.rs`).

use std::borrow::Cow;

use super::matmul::{out_pe, promote_left, promote_right};
use super::{basis, broadcast_like, matmul, mul, sum, sum_to_like, unsqueeze};
use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{
    Shape, broadcast_left, broadcast_right, broadcast_strides, fail, joined, split,
};
use crate::tensor::Tensor;

/// `sum_to(basis(like) * u, t)`: shape `batch ++ [N] ++ (t or like*u)`.
/// Bit `i` of `keep` keeps batch dim `i` where `t` has size 1 (as in
/// `sum_to_like`).
pub fn diag<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    nb: usize,
    keep: u32,
) -> Tensor<T> {
    // Dense (basis times scale) on every device: the compiler keeps seeds
    // symbolic and calls the products below wherever it can.
    if let Some(d) = embed_on_cpu(u, like, t, nb) {
        return d;
    }
    let e = basis(like, nb);
    let d = mul(&e, &unsqueeze(u, 0, nb), nb + 1);
    match t {
        Some(t) => sum_to_like(&d, &unsqueeze(t, 0, nb), nb + 1, keep | (1 << nb)),
        None => d,
    }
}

/// [`diag`] without a scale to sum to, `u` finite and of `like`'s full pe
/// shape, on the CPU: zeros with `u` written on each block's diagonal, in
/// one pass (the same values as the basis times `u`, since `0 * u` is 0
/// for finite `u`). `None` otherwise.
fn embed_on_cpu<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    nb: usize,
) -> Option<Tensor<T>> {
    let all = [u.shape(), like.shape()];
    let (ub, up) = split("diag", u.shape(), nb, &all);
    let (_, lp) = split("diag", like.shape(), nb, &all);
    if t.is_some() || up != lp || !on_cpu(&[u, like]) || !u.as_slice().iter().all(|v| v.is_finite())
    {
        return None;
    }
    let n: usize = lp.iter().product();
    let count: usize = ub.iter().product();
    let mut data = vec![T::zero(); count * n * n];
    for (block, scale) in data
        .chunks_exact_mut((n * n).max(1))
        .zip(u.as_slice().chunks_exact(n.max(1)))
    {
        for (i, &v) in scale.iter().enumerate() {
            block[i * n + i] = v;
        }
    }
    Some(Tensor::from_parts(joined(&[ub, &[n], lp]), data))
}

/// The adjoint of [`diag`] in `u`: `ct` has shape `batch ++ [N] ++ pe`; the
/// result has `u_like`'s pe shape, its batch dims summed where `u_like` has
/// size 1 unless kept by `keep` (as in `sum_to_like`).
pub fn diag_t<T: Float>(
    ct: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    u_like: &Tensor<T>,
    nb: usize,
    keep: u32,
) -> Tensor<T> {
    let all: [&[usize]; 3] = [ct.shape(), like.shape(), u_like.shape()];
    let (_, lp) = split("diag_t", like.shape(), nb, &all);
    let (_, up) = split("diag_t", u_like.shape(), nb, &all);
    let Some(full) = broadcast_right(lp, up) else {
        fail!(
            "diag_t",
            all,
            "the scale does not broadcast against the basis"
        );
    };
    let x = match t {
        Some(_) => {
            let lead = &ct.shape()[..=nb];
            let target = on_device_of(Tensor::zeros(&[lead, &full[..]].concat()), ct);
            broadcast_like(ct, &target, nb + 1)
        }
        None => ct.clone(),
    };
    let y = mul(&x, &basis(like, nb), nb + 1);
    sum_to_like(&sum(&y, Some(0), nb), u_like, nb, keep)
}

/// Whether every operand is on the CPU: the row-gather products below are
/// CPU kernels; on a GPU the products take their dense form (the basis, then
/// a cuBLAS product), which every op of it supports.
pub(super) fn on_cpu<T: Float>(ts: &[&Tensor<T>]) -> bool {
    ts.iter().all(|t| t.device() == crate::Device::Cpu)
}

/// `t` (built on the CPU) on the device of `like`.
fn on_device_of<T: Float>(t: Tensor<T>, like: &Tensor<T>) -> Tensor<T> {
    match like.device() {
        crate::Device::Cpu => t,
        d => t
            .to_device(d)
            .unwrap_or_else(|e| panic!("transforms: diag_t: cannot reach {d}: {e}")),
    }
}

/// A keep mask for every batch dim (the seed's target is never batch-reduced
/// inside the products: their own shape input decides).
pub(super) fn keep_all(nb: usize) -> u32 {
    (1u32 << nb) - 1
}

/// Where an operand's batch dims sit in a broadcast batch, and its pe size.
struct Batched<'a, T> {
    data: &'a [T],
    strides: Shape,
}

fn batched<'a, T: Float>(x: &'a Tensor<T>, batch: &[usize], nb: usize) -> Batched<'a, T> {
    Batched {
        data: x.as_slice(),
        strides: batch_strides(x, batch, nb),
    }
}

/// The element strides of `x`'s batch dims within the broadcast `batch`
/// (0 where `x` has size 1).
pub(super) fn batch_strides<T: Float>(x: &Tensor<T>, batch: &[usize], nb: usize) -> Shape {
    if batch.is_empty() {
        return Shape::new();
    }
    let pe: usize = x.shape()[nb..].iter().product();
    broadcast_strides(&x.shape()[..nb])
        .iter()
        .map(|s| s * pe)
        .collect()
}

/// Flat index -> per-dim offset through `strides` (dims of size 1 broadcast).
pub(super) fn offset(mut i: usize, shape: &[usize], strides: &[usize]) -> usize {
    let mut off = 0;
    for (&n, &s) in shape.iter().zip(strides).rev() {
        off += (i % n) * s;
        i /= n;
    }
    off
}

/// Element offsets by flat index, with the common layouts (contiguous or
/// a single block) resolved once instead of by division per call.
pub(super) enum Offsets {
    Zero,
    Flat,
    Strided(Shape, Shape),
}

impl Offsets {
    pub(super) fn new(shape: &[usize], strides: &[usize]) -> Self {
        // Row-major strides, compared from the last dim without a buffer.
        let contiguous = || {
            let mut acc = 1;
            shape.len() == strides.len()
                && shape.iter().zip(strides).rev().all(|(&n, &st)| {
                    let ok = st == acc;
                    acc *= n;
                    ok
                })
        };
        if shape.iter().product::<usize>() == 1 {
            Offsets::Zero
        } else if contiguous() {
            Offsets::Flat
        } else {
            Offsets::Strided(Shape::from_slice(shape), Shape::from_slice(strides))
        }
    }

    /// The `n` values `data[base + at(i)]`, `i < n`: a slice of `data` when
    /// the offsets are flat, gathered otherwise.
    pub(super) fn gather<'d, T: Copy>(&self, data: &'d [T], base: usize, n: usize) -> Cow<'d, [T]> {
        match self {
            Offsets::Flat => Cow::Borrowed(&data[base..base + n]),
            _ => Cow::Owned((0..n).map(|i| data[base + self.at(i)]).collect()),
        }
    }

    #[inline]
    pub(super) fn at(&self, i: usize) -> usize {
        match self {
            Offsets::Zero => 0,
            Offsets::Flat => i,
            Offsets::Strided(shape, strides) => offset(i, shape, strides),
        }
    }
}

/// Strides of `small` right-aligned and broadcast into `big` (in elements).
pub(super) fn inner_strides(small: &[usize], big: &[usize]) -> Shape {
    // Row-major strides of `small` (0 on its size-1 dims), right-aligned
    // into `big`'s rank with 0 in front.
    let mut out: Shape = smallvec::smallvec![0; big.len()];
    let mut acc = 1;
    for (o, &n) in out.iter_mut().rev().zip(small.iter().rev()) {
        *o = if n == 1 { 0 } else { acc };
        acc *= n;
    }
    out
}

/// Whether `u` broadcasts into `like`'s pe shape and `t` (if any) equals it:
/// then the seed is a plain scaled identity over `like`.
pub(super) fn plain<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    nb: usize,
) -> bool {
    let (lp, up) = (&like.shape()[nb..], &u.shape()[nb..]);
    broadcast_right(lp, up).is_some_and(|f| &f[..] == lp)
        && t.is_none_or(|t| &t.shape()[nb..] == lp)
}

/// The broadcast batch of several operands.
pub(super) fn batch_of(op: &str, shapes: &[&[usize]], nb: usize) -> Shape {
    let mut batch: Shape = smallvec::smallvec![1; nb];
    for s in shapes {
        let Some(b) = broadcast_left(&batch, &s[..nb]) else {
            fail!(op, shapes, "batch dims do not broadcast");
        };
        batch = b;
    }
    batch
}

/// How a matrix operand is read: its pe shape as read, and the element
/// strides of (row, column) of its last two dims. With `b_t` the operand is
/// `t(b)`, read from `b` without copying (torch's `.t()` leaves 0-D and 1-D
/// tensors alone).
pub(super) fn read_as<T: Float>(b: &Tensor<T>, nb: usize, b_t: bool) -> (Shape, usize, usize) {
    let pb = &b.shape()[nb..];
    if b_t && pb.len() == 2 {
        return (Shape::from_slice(&[pb[1], pb[0]]), 1, pb[1]);
    }
    let n = if pb.len() >= 2 { pb[pb.len() - 1] } else { 1 };
    (Shape::from_slice(pb), n, 1)
}

/// `matmul(diag(u, like, t), b)` with the basis dim as a batch dim: row `i`
/// of the seed is `u_i e_i`, so each result is one scaled row of `b` (of
/// `t(b)` when `b_t`).
pub fn diag_matmul<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    b: &Tensor<T>,
    nb: usize,
    b_t: bool,
) -> Tensor<T> {
    let all: [&[usize]; 3] = [u.shape(), like.shape(), b.shape()];
    split("diag_matmul", u.shape(), nb, &all);
    split("diag_matmul", b.shape(), nb, &all);
    let (_, lp) = split("diag_matmul", like.shape(), nb, &all);
    crate::device::same_device!("diag_matmul", [u, like, b]);
    #[cfg(feature = "cuda")]
    if let (crate::Device::Cuda(ord), Some((shape, su, sb))) =
        (u.device(), mm_as_product(u, like, t, b, nb, b_t))
    {
        // The gather on the GPU too: one strided product launch.
        return crate::cuda::ops::strided_mul(
            "diag_matmul",
            ord,
            shape.to_vec(),
            (u, &su),
            (b, &sb),
        );
    }
    let (read, bp, bs) = read_as(b, nb, b_t);
    let pb = &read[..];
    let fast =
        on_cpu(&[u, like, b]) && plain(u, like, t, nb) && !lp.is_empty() && !pb.is_empty() && {
            let (a2, b2) = (promote_left(lp, 0), promote_right(pb, 0));
            let (mba, mbb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
            a2[a2.len() - 1] == b2[b2.len() - 2]
                && broadcast_right(mba, mbb).is_some_and(|m| &m[..] == mba)
        };
    if !fast {
        if b_t {
            return diag_matmul(u, like, t, &super::t(b, nb), nb, false);
        }
        let c = diag(u, like, t, nb, keep_all(nb));
        return matmul(&c, &unsqueeze(b, 0, nb), nb + 1);
    }
    // An identity basis (all ones) of a vector times a matrix is the matrix:
    // the same buffer, no copy (jacfwd of `x.matmul(m)`).
    if nb == 0
        && !b_t
        && matches!((lp, b.shape()), (&[k], &[rows, _]) if rows == k)
        && cpu::all_equal(u.as_slice(), T::one())
    {
        return b.clone();
    }
    let op = out_pe("diag_matmul", &all, lp, pb);
    let (a2, b2) = (promote_left(lp, 0), promote_right(pb, 0));
    let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
    if bs != 1 && n > 1 {
        // Rows of `t(b)` are strided columns of `b`: transpose `b` once (in
        // tiles) rather than gather every row element by element.
        return diag_matmul(u, like, t, &super::t(b, nb), nb, false);
    }
    let mba = &a2[..a2.len() - 2];
    let mbb = &b2[..b2.len() - 2];
    let b_mat = inner_strides(mbb, mba)
        .iter()
        .map(|s| s * k * n)
        .collect::<Vec<_>>();
    let u_str = inner_strides(&u.shape()[nb..], lp);
    let (u_at, b_at) = (Offsets::new(lp, &u_str), Offsets::new(mba, &b_mat));
    let (nl, no): (usize, usize) = (lp.iter().product(), op.iter().product());
    let batch = batch_of("diag_matmul", &[u.shape(), like.shape(), b.shape()], nb);
    let (ub, bb) = (batched(u, &batch, nb), batched(b, &batch, nb));
    let count: usize = batch.iter().product();
    // Each basis element's result is one row of `b` in a block of zeros,
    // appended in order (batch blocks in parallel when large).
    let out = cpu::build_chunks(count * nl * no, nl * no, |range, sink| {
        let j = range.start / (nl * no);
        let (uo, bo) = (
            offset(j, &batch, &ub.strides),
            offset(j, &batch, &bb.strides),
        );
        if m == 1 && no == n && bs == 1 && matches!(b_at, Offsets::Zero) {
            // One matrix, one output row per basis element: row `i` of `b`
            // scaled (no index arithmetic per row).
            let scales = u_at.gather(ub.data, uo, nl);
            sink.extend_scaled_rows(&bb.data[bo..], bp, n, &scales);
            return;
        }
        for i in 0..nl {
            // i = (mb, r, p) over a2 = [mba.., m, k].
            let (mb, r, p) = (i / (m * k), (i / k) % m, i % k);
            let ui = ub.data[uo + u_at.at(i)];
            let row = bo + b_at.at(mb) + p * bp;
            let dst = (mb * m + r) * n;
            sink.fill(T::zero(), dst);
            if bs == 1 {
                sink.extend_scaled(&bb.data[row..row + n], ui);
            } else {
                sink.extend((0..n).map(|q| ui * bb.data[row + q * bs]));
            }
            sink.fill(T::zero(), no - dst - n);
        }
    });
    Tensor::from_parts(joined(&[&batch, &[nl], &op]), out)
}

/// [`diag_matmul`]'s common case (a plain seed over a vector, one matrix:
/// a layer's jacfwd) as one elementwise product over `batch ++ [k, n]`:
/// the shape and the element strides of `u` and `b` over it. `None` for
/// other shapes.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
fn mm_as_product<T: Float>(
    u: &Tensor<T>,
    like: &Tensor<T>,
    t: Option<&Tensor<T>>,
    b: &Tensor<T>,
    nb: usize,
    b_t: bool,
) -> Option<(Shape, Shape, Shape)> {
    let lp = &like.shape()[nb..];
    let (read, rows, cols) = read_as(b, nb, b_t);
    let (&[k], &[kb, n]) = (lp, &read[..]) else {
        return None;
    };
    if !plain(u, like, t, nb) || k != kb {
        return None;
    }
    let batch = batch_of("diag_matmul", &[u.shape(), like.shape(), b.shape()], nb);
    let su = joined(&[
        &batch_strides(u, &batch, nb),
        &inner_strides(&u.shape()[nb..], lp),
        &[0],
    ]);
    let sb = joined(&[&batch_strides(b, &batch, nb), &[rows, cols]]);
    Some((joined(&[&batch, &[k, n]]), su, sb))
}

#[cfg(test)]
mod strided_tests {
    //! The strided form (what a CUDA device launches) checked on the CPU
    //! against the row path.
    use super::*;

    #[test]
    fn the_strided_forward_product_matches_the_rows() {
        // (u, like, b stored, nb, b_t)
        type Case<'a> = (&'a [usize], &'a [usize], &'a [usize], usize, bool);
        let cases: [Case; 4] = [
            (&[3], &[3], &[3, 5], 0, false),
            (&[1], &[3], &[5, 3], 0, true),
            (&[2, 3], &[2, 3], &[1, 3, 5], 1, false),
            (&[2, 1], &[1, 3], &[2, 5, 3], 1, true),
        ];
        for (k, (us, ls, bs, nb, b_t)) in cases.into_iter().enumerate() {
            let (u, like) = (Tensor::<f64>::randn(us, k as u64), Tensor::randn(ls, 9));
            let b = Tensor::randn(bs, 11 + k as u64);
            let (shape, su, sb) =
                mm_as_product(&u, &like, None, &b, nb, b_t).expect("the common case");
            let got = cpu::zip_strided(&shape, u.as_slice(), &su, b.as_slice(), &sb, |x, y| y * x);
            let want = diag_matmul(&u, &like, None, &b, nb, b_t);
            assert_eq!(&shape[..], want.shape(), "case {k}");
            assert_eq!(got, want.to_vec(), "case {k}");
        }
    }
}

#[cfg(test)]
mod embed_tests {
    use super::*;

    #[test]
    fn the_one_pass_embedding_equals_the_basis_times_the_scale() {
        // (u shape, like shape, nb): a vector, a matrix, batched.
        let cases: [(&[usize], &[usize], usize); 3] = [
            (&[4], &[4], 0),
            (&[2, 3], &[2, 3], 0),
            (&[3, 2, 2], &[1, 2, 2], 1),
        ];
        for (us, ls, nb) in cases {
            let (u, like) = (Tensor::<f64>::randn(us, 1), Tensor::<f64>::randn(ls, 2));
            let dense = mul(&basis(&like, nb), &unsqueeze(&u, 0, nb), nb + 1);
            let fast = embed_on_cpu(&u, &like, None, nb).expect("the fast case");
            assert_eq!(fast.shape(), dense.shape(), "{us:?}");
            assert_eq!(fast.to_vec(), dense.to_vec(), "{us:?}");
            assert_eq!(diag(&u, &like, None, nb, 0).to_vec(), dense.to_vec());
        }
        // A non-finite scale keeps the dense form (its 0 * inf = NaN).
        let u = Tensor::<f64>::from_parts(vec![2], vec![1.0, f64::INFINITY]);
        assert!(embed_on_cpu(&u, &u, None, 0).is_none());
        assert!(diag(&u, &u, None, 0, 0).to_vec()[1].is_nan());
    }
}
