//! Sum/mean reductions over the per-example part and their transposes.

use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{broadcast_strides, fail, norm_dim, split};
use crate::tensor::Tensor;

/// Which dims of `x` a reduction sums, the result shape, and the count.
fn plan<T: Float>(
    op: &str,
    x: &Tensor<T>,
    dim: Option<isize>,
    nb: usize,
) -> (Vec<bool>, Vec<usize>, usize) {
    let shape = x.shape();
    let (b, p) = split(op, shape, nb, &[shape]);
    let mut mask = vec![false; shape.len()];
    match dim {
        None => {
            mask[nb..].iter_mut().for_each(|m| *m = true);
            (mask, b.to_vec(), p.iter().product())
        }
        Some(d) => {
            let d = norm_dim(op, d, p.len(), &[shape]);
            mask[nb + d] = true;
            let mut out = shape.to_vec();
            out.remove(nb + d);
            (mask, out, p[d])
        }
    }
}

/// Sum over the whole pe part (`dim = None`) or over pe dim `d` (removed).
pub fn sum<T: Float>(x: &Tensor<T>, dim: Option<isize>, nb: usize) -> Tensor<T> {
    let (mask, out, _) = plan("sum", x, dim, nb);
    #[cfg(feature = "cuda")]
    if x.device() != crate::Device::Cpu {
        return crate::cuda::ops::sum_axes("sum", x, &mask, out);
    }
    Tensor::from_parts(out, cpu::sum_axes(x.as_slice(), x.shape(), &mask))
}

/// Mean over the whole pe part (`dim = None`) or over pe dim `d` (removed).
/// An empty reduction gives NaN, as in torch.
pub fn mean<T: Float>(x: &Tensor<T>, dim: Option<isize>, nb: usize) -> Tensor<T> {
    let (mask, out, count) = plan("mean", x, dim, nb);
    #[cfg(feature = "cuda")]
    if x.device() != crate::Device::Cpu {
        let s = crate::cuda::ops::sum_axes("mean", x, &mask, out);
        return crate::ops::mul_scalar(&s, T::one() / T::from_f64(count as f64));
    }
    let mut data = cpu::sum_axes(x.as_slice(), x.shape(), &mask);
    let scale = T::one() / T::from_f64(count as f64);
    cpu::map_inplace(&mut data, |v| v * scale);
    Tensor::from_parts(out, data)
}

/// Broadcasts a reduction's cotangent back to `like`'s pe shape; returns it
/// with the reduction count.
fn spread<T: Float>(
    op: &str,
    ct: &Tensor<T>,
    dim: Option<isize>,
    like: &Tensor<T>,
    nb: usize,
) -> (Tensor<T>, usize) {
    let all: [&[usize]; 2] = [ct.shape(), like.shape()];
    let (cb, cp) = split(op, ct.shape(), nb, &all);
    let (_, lp) = split(op, like.shape(), nb, &all);
    let mut src_pe = vec![1; lp.len()];
    let (expected, count) = match dim {
        None => (vec![], lp.iter().product()),
        Some(d) => {
            let d = norm_dim(op, d, lp.len(), &all);
            let mut e = lp.to_vec();
            e.remove(d);
            src_pe.copy_from_slice(lp);
            src_pe[d] = 1;
            (e, lp[d])
        }
    };
    if cp != expected.as_slice() {
        fail!(
            op,
            all,
            "the cotangent's per-example shape must be {expected:?}"
        );
    }
    let src_shape = [cb, &src_pe[..]].concat();
    let out_shape = [cb, lp].concat();
    let out = crate::ops::broadcast::gather(op, ct, out_shape, &broadcast_strides(&src_shape));
    (out, count)
}

/// Transpose of [`sum`]: spreads `ct` (shaped like `sum(like, dim)` per
/// example) over `like`'s pe shape. Batch dims are `ct`'s.
pub fn sum_t<T: Float>(
    ct: &Tensor<T>,
    dim: Option<isize>,
    like: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    crate::device::same_device!("sum_t", [ct, like]);
    spread("sum_t", ct, dim, like, nb).0
}

/// Transpose of [`mean`]: [`sum_t`] divided by the reduction count.
pub fn mean_t<T: Float>(
    ct: &Tensor<T>,
    dim: Option<isize>,
    like: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    crate::device::same_device!("mean_t", [ct, like]);
    let (mut out, count) = spread("mean_t", ct, dim, like, nb);
    let scale = T::one() / T::from_f64(count as f64);
    if out.device() != crate::Device::Cpu {
        return crate::ops::mul_scalar(&out, scale);
    }
    cpu::map_inplace(out.as_mut_slice(), |v| v * scale);
    out
}
