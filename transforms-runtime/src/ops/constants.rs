//! Constant tensors shaped after another tensor.

use crate::float::Float;
use crate::shape::split;
use crate::tensor::Tensor;

/// Zeros of `like`'s full shape.
pub fn zeros_like<T: Float>(like: &Tensor<T>, nb: usize) -> Tensor<T> {
    split("zeros_like", like.shape(), nb, &[like.shape()]);
    Tensor::zeros(like.shape())
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
    Tensor::ones(like.shape())
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
    Tensor::from_parts(shape, data)
}
