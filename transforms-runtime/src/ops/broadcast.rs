//! Broadcasting to a shape, its transpose (summing down), and the `vmap`
//! batch-size helpers.

use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{aligned, broadcast_left, broadcast_strides, fail, split};
use crate::tensor::Tensor;

/// `out[i] = x[<index of i under strides>]` for an output of shape `out`:
/// the strided gather behind broadcasting and permutations, on `x`'s device.
pub(crate) fn gather<T: Float>(
    op: &str,
    x: &Tensor<T>,
    out: Vec<usize>,
    strides: &[usize],
) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    if x.device() != crate::Device::Cpu {
        return crate::cuda::ops::copy_strided(op, x, out, strides, 0);
    }
    let _ = op;
    let data = cpu::copy_strided(&out, x.as_slice(), strides);
    Tensor::from_parts(out, data)
}

/// Broadcasts `x`'s pe part (right-aligned) to exactly `like`'s pe shape;
/// batch dims broadcast left-aligned against `like`'s.
pub fn broadcast_like<T: Float>(x: &Tensor<T>, like: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::same_device!("broadcast_like", [x, like]);
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (bx, px) = split("broadcast_like", x.shape(), nb, &all);
    let (bl, pl) = split("broadcast_like", like.shape(), nb, &all);
    let Some(batch) = broadcast_left(bx, bl) else {
        fail!("broadcast_like", all, "batch dims do not broadcast");
    };
    let fits = px.len() <= pl.len()
        && px
            .iter()
            .zip(&pl[pl.len() - px.len()..])
            .all(|(&a, &b)| a == b || a == 1);
    if !fits {
        fail!(
            "broadcast_like",
            all,
            "cannot broadcast the per-example part"
        );
    }
    let out_shape = [&batch[..], pl].concat();
    if out_shape == x.shape() {
        return x.clone();
    }
    let strides = broadcast_strides(&aligned(bx, px, pl.len()));
    gather("broadcast_like", x, out_shape, &strides)
}

/// Transpose of [`broadcast_like`]: sums `x`'s pe part down to `like`'s pe
/// shape (leading extra dims are summed away, dims where `like` has size 1
/// are summed keeping the dim). `x`'s batch dims are kept, except where `like` has
/// size 1 there: those are summed to size 1 (the adjoint of batch broadcasting).
///
/// Bit `i` of `keep` keeps batch dim `i` even where `like` has size 1 (the
/// compiler sets it when `like` is not batched at that level).
pub fn sum_to_like<T: Float>(x: &Tensor<T>, like: &Tensor<T>, nb: usize, keep: u32) -> Tensor<T> {
    crate::device::same_device!("sum_to_like", [x, like]);
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (lb, lp) = split("sum_to_like", like.shape(), nb, &all);
    let (xb, xp) = split("sum_to_like", x.shape(), nb, &all);
    let unchanged = xp == lp
        && xb
            .iter()
            .zip(lb)
            .enumerate()
            .all(|(i, (&h, &w))| h == 1 || w != 1 || keep & (1 << i) != 0);
    if unchanged {
        return x.clone();
    }
    let target = SumTarget {
        batch: lb,
        pe: lp,
        keep,
    };
    sum_to_pe("sum_to_like", x, &target, nb, &all)
}

/// What [`sum_to_pe`] sums down to: a reference's batch dims, its pe shape,
/// and the mask of batch dims to keep.
pub(crate) struct SumTarget<'a> {
    pub batch: &'a [usize],
    pub pe: &'a [usize],
    pub keep: u32,
}

/// Sums `x` down to pe shape `target`; batch dims
/// are kept, except that they are summed (keeping a dim of size 1) where
/// `target_batch` has size 1: the adjoint of broadcasting a size-1 batch dim.
/// The core of [`sum_to_like`], shared with the matmul transposes.
pub(crate) fn sum_to_pe<T: Float>(
    op: &str,
    x: &Tensor<T>,
    target: &SumTarget<'_>,
    nb: usize,
    all: &[&[usize]],
) -> Tensor<T> {
    let shape = x.shape();
    let (target_batch, keep) = (target.batch, target.keep);
    let target = target.pe;
    let (b, p) = split(op, shape, nb, all);
    let b: Vec<usize> = b
        .iter()
        .zip(target_batch)
        .enumerate()
        .map(|(i, (&have, &want))| {
            if want == 1 && keep & (1 << i) == 0 {
                1
            } else {
                have
            }
        })
        .collect();
    if target.len() > p.len() {
        fail!(
            op,
            all,
            "cannot sum {} per-example dims down to {}",
            p.len(),
            target.len()
        );
    }
    let lead = p.len() - target.len();
    let mut mask = vec![false; shape.len()];
    for (m, (&have, &kept)) in mask.iter_mut().zip(shape.iter().zip(&b)) {
        *m = have != kept;
    }
    for (i, m) in mask[nb..].iter_mut().enumerate() {
        if i < lead {
            *m = true;
        } else {
            let (have, want) = (p[i], target[i - lead]);
            if have != want {
                if want != 1 {
                    fail!(
                        op,
                        all,
                        "per-example dim {i} of size {have} cannot be summed to size {want}"
                    );
                }
                *m = true;
            }
        }
    }
    // Summing a dim of size 1 moves no element: only the others need a
    // pass (and a buffer); with none left the result is a reshape.
    for (m, &have) in mask.iter_mut().zip(shape) {
        *m &= have != 1;
    }
    let out_shape = [&b[..], target].concat();
    if !mask.contains(&true) {
        return x.reshaped(&out_shape);
    }
    #[cfg(feature = "cuda")]
    if x.device() != crate::Device::Cpu {
        return crate::cuda::ops::sum_axes(op, x, &mask, out_shape);
    }
    Tensor::from_parts(out_shape, cpu::sum_axes(x.as_slice(), shape, &mask))
}

/// Expands `x`'s pe dim 0 (size 1 or `S`) to `S`, the size of `r`'s pe dim 0.
pub fn expand_dim0_like<T: Float>(x: &Tensor<T>, r: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::same_device!("expand_dim0_like", [x, r]);
    let all: [&[usize]; 2] = [x.shape(), r.shape()];
    let (_, px) = split("expand_dim0_like", x.shape(), nb, &all);
    let (_, pr) = split("expand_dim0_like", r.shape(), nb, &all);
    if px.is_empty() || pr.is_empty() {
        fail!(
            "expand_dim0_like",
            all,
            "both tensors need at least one per-example dim"
        );
    }
    let s = pr[0];
    if px[0] == s {
        return x.clone();
    }
    if px[0] != 1 {
        fail!(
            "expand_dim0_like",
            all,
            "per-example dim 0 has size {}, expected 1 or {s}",
            px[0]
        );
    }
    let mut out_shape = x.shape().to_vec();
    out_shape[nb] = s;
    let strides = broadcast_strides(x.shape());
    gather("expand_dim0_like", x, out_shape, &strides)
}

/// Checks that `x` and `r` have the same pe dim 0 size (the `vmap` batch
/// size) and returns `x` unchanged.
pub fn assert_batch<'a, T: Float>(x: &'a Tensor<T>, r: &Tensor<T>, nb: usize) -> &'a Tensor<T> {
    crate::device::same_device!("vmap", [x, r]);
    let all: [&[usize]; 2] = [x.shape(), r.shape()];
    let (_, px) = split("vmap", x.shape(), nb, &all);
    let (_, pr) = split("vmap", r.shape(), nb, &all);
    if px.is_empty() || pr.is_empty() {
        fail!("vmap", all, "a mapped input has no dim to map over");
    }
    if px[0] != pr[0] {
        panic!(
            "transforms: vmap: mapped inputs have different batch sizes: {} and {} (shapes {:?} and {:?})",
            px[0],
            pr[0],
            x.shape(),
            r.shape()
        );
    }
    x
}
