//! User-facing [`Tensor`] methods (the ops with `nb = 0`) and the free
//! functions [`linear`] and [`matmul`].

use crate::float::Float;
use crate::ops;
use crate::tensor::Tensor;

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Tensor<T> {
            ops::$name(self)
        }
    )*};
}

impl<T: Float> Tensor<T> {
    unary_methods! {
        /// Hyperbolic tangent, elementwise.
        tanh;
        /// `e^x`, elementwise.
        exp;
        /// Natural logarithm, elementwise.
        ln;
        /// Sine, elementwise.
        sin;
        /// Cosine, elementwise.
        cos;
        /// Square root, elementwise.
        sqrt;
        /// Logistic sigmoid, elementwise.
        sigmoid;
        /// `max(x, 0)`, elementwise.
        relu;
        /// `x * x`, elementwise.
        square;
        /// `-x`, elementwise.
        neg;
        /// `1 / x`, elementwise.
        recip;
    }

    /// `x^c`, elementwise.
    pub fn powf(&self, c: T) -> Tensor<T> {
        ops::powf(self, c)
    }

    /// Sum of all elements (0-dim result).
    pub fn sum(&self) -> Tensor<T> {
        ops::sum(self, None, 0)
    }

    /// Sum over dim `d`, which is removed.
    pub fn sum_dim(&self, d: isize) -> Tensor<T> {
        ops::sum(self, Some(d), 0)
    }

    /// Mean of all elements (0-dim result).
    pub fn mean(&self) -> Tensor<T> {
        ops::mean(self, None, 0)
    }

    /// Mean over dim `d`, which is removed.
    pub fn mean_dim(&self, d: isize) -> Tensor<T> {
        ops::mean(self, Some(d), 0)
    }

    /// torch `.t()`: transpose of a 2-D tensor, a copy for 0-D/1-D.
    ///
    /// # Panics
    /// For more than 2 dims.
    pub fn t(&self) -> Tensor<T> {
        ops::t(self, 0)
    }

    /// Swaps dims `a` and `b`.
    pub fn transpose(&self, a: isize, b: isize) -> Tensor<T> {
        ops::transpose(self, a, b, 0)
    }

    /// Reshapes to `shape` (one entry may be `-1`).
    pub fn reshape(&self, shape: &[isize]) -> Tensor<T> {
        ops::reshape(self, shape, 0)
    }

    /// Inserts a size-1 dim at `d` (negative: `d + ndim + 1`).
    pub fn unsqueeze(&self, d: isize) -> Tensor<T> {
        ops::unsqueeze(self, d, 0)
    }

    /// torch.matmul of `self` and `other`.
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        ops::matmul(self, other, 0)
    }
}

/// A linear layer: `x @ w^T + b` for `x: [.., in]`, `w: [out, in]`,
/// `b: [out]`.
pub fn linear<T: Float>(x: &Tensor<T>, w: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::linear_impl(x, w, b)
}

/// torch.matmul: 1-D.1-D gives a 0-dim tensor; 2-D@1-D, 1-D@2-D and batched
/// products with broadcast batch dims are supported.
pub fn matmul<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    ops::matmul(a, b, 0)
}
