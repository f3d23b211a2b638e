//! Constant tensors shaped after another tensor.

use crate::float::Float;
use crate::shape::split;
use crate::tensor::Tensor;

/// `t` (built on the host) on `like`'s device.
#[inline]
pub(super) fn on_device<T: Float>(op: &str, t: Tensor<T>, like: &Tensor<T>) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    return crate::cuda::place_like(op, t, like);
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (op, like);
        t
    }
}

/// Zeros of `shape` on `like`'s device.
pub(crate) fn zeros_on<T: Float>(shape: &[usize], like: &Tensor<T>) -> Tensor<T> {
    on_device("zeros", Tensor::zeros(shape), like)
}

/// Zeros of `like`'s full shape.
pub fn zeros_like<T: Float>(like: &Tensor<T>, nb: usize) -> Tensor<T> {
    split("zeros_like", like.shape(), nb, &[like.shape()]);
    on_device("zeros_like", Tensor::zeros(like.shape()), like)
}

/// Ones of `like`'s full shape: the seed cotangent of `grad`.
///
/// # Panics
/// Unless `like`'s pe part is 0-dim.
pub fn grad_seed<T: Float>(like: &Tensor<T>, nb: usize) -> Tensor<T> {
    let (_, p) = split("grad", like.shape(), nb, &[like.shape()]);
    if !p.is_empty() {
        let full = if nb > 0 {
            format!(" (full shape with batch dims {:?})", like.shape())
        } else {
            String::new()
        };
        panic!(
            "transforms: grad: the function's output must be 0-dim (a scalar), got shape {p:?}{full}"
        );
    }
    on_device("grad", Tensor::ones(like.shape()), like)
}

/// The identity basis of `like`'s pe space: shape `[1; nb] ++ [N] ++ pe`
/// with `N` the pe element count; entry `[.., i, j (flat)]` is `i == j`.
pub fn basis<T: Float>(like: &Tensor<T>, nb: usize) -> Tensor<T> {
    let (_, p) = split("basis", like.shape(), nb, &[like.shape()]);
    let n: usize = p.iter().product();
    let mut data = vec![T::zero(); n * n];
    for i in 0..n {
        data[i * n + i] = T::one();
    }
    let shape = [&vec![1; nb][..], &[n], p].concat();
    on_device("basis", Tensor::from_parts(shape, data), like)
}
