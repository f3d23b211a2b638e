//! `#[differentiable]` functions in a library crate: `tests/programs.rs`
//! calls them from transformed functions of another crate.

pub mod layers {
    use transforms::prelude::*;

    /// A private helper: its body travels inside `dense`'s hand-off.
    #[differentiable]
    fn gelu_ish(x: &Tensor<f64>) -> Tensor<f64> {
        x * (x * 1.702).sigmoid()
    }

    /// `act(w x + b)`.
    #[differentiable]
    pub fn dense(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
        gelu_ish(&linear(x, w, b))
    }
}
