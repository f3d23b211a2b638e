//! Helpers shared by the integration tests.
#![allow(dead_code)]

use transforms_runtime::Tensor;

/// Deterministic f64 test data.
pub fn rand(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, seed)
}

/// f64 tensor from a shape and values.
pub fn t64(shape: &[usize], v: &[f64]) -> Tensor<f64> {
    Tensor::from_shape_vec(shape, v.to_vec()).unwrap()
}

/// f32 tensor from a shape and values.
pub fn t32(shape: &[usize], v: &[f32]) -> Tensor<f32> {
    Tensor::from_shape_vec(shape, v.to_vec()).unwrap()
}

/// The Frobenius inner product of two equally shaped tensors.
pub fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "dot: shapes differ");
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

/// Asserts `a ≈ b` (relative to the magnitudes involved).
pub fn assert_close(a: f64, b: f64) {
    assert!(
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())),
        "{a} != {b}"
    );
}

/// Asserts two tensors are equal up to rounding, with the same shape.
pub fn assert_tensor_close(a: &Tensor<f64>, b: &Tensor<f64>) {
    assert_eq!(a.shape(), b.shape(), "shapes differ: {a:?} vs {b:?}");
    assert!(a.allclose(b, 1e-10, 1e-10), "values differ: {a:?} vs {b:?}");
}

/// Checks that `f(inputs, 1)` equals stacking `f(inputs[i], 0)` over the
/// batch (dim 0 of every input; inputs whose dim 0 has size 1 broadcast).
pub fn check_batched(inputs: &[Tensor<f64>], f: impl Fn(&[Tensor<f64>], usize) -> Tensor<f64>) {
    let n = inputs.iter().map(|x| x.shape()[0]).max().unwrap();
    let batched = f(inputs, 1);
    let looped: Vec<Tensor<f64>> = (0..n)
        .map(|i| {
            let xs: Vec<Tensor<f64>> = inputs
                .iter()
                .map(|x| x.select(0, if x.shape()[0] == 1 { 0 } else { i }))
                .collect();
            f(&xs, 0)
        })
        .collect();
    assert_tensor_close(&batched, &Tensor::stack(&looped, 0));
}
