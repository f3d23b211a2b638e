//! Elementwise unary ops (no batch argument needed).

use transforms_kernels::cpu;

use crate::elem;
use crate::float::Float;
use crate::tensor::Tensor;

/// Applies `f` elementwise (internal helper shared with the operators).
#[inline]
pub(crate) fn map<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T) -> Tensor<T> {
    Tensor::from_parts(x.shape().to_vec(), cpu::map(x.as_slice(), f))
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Float>(x: &Tensor<T>) -> Tensor<T> {
            map(x, elem::$name)
        }
    )*};
}

unary_ops! {
    /// `-x`.
    neg;
    /// `e^x`.
    exp;
    /// Natural logarithm.
    ln;
    /// Sine.
    sin;
    /// Cosine.
    cos;
    /// Hyperbolic tangent.
    tanh;
    /// Square root.
    sqrt;
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
    sigmoid;
    /// `max(x, 0)` (NaN propagates).
    relu;
    /// `x * x`.
    square;
    /// `1 / x`.
    recip;
    /// `1` where `x > 0`, else `0`: the derivative of `relu`.
    heaviside;
}

/// `x^c` elementwise.
pub fn powf<T: Float>(x: &Tensor<T>, c: T) -> Tensor<T> {
    map(x, |v| elem::powf(v, c))
}

/// `x + s` elementwise.
pub fn add_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    map(x, |v| elem::add_scalar(v, s))
}

/// `x * s` elementwise.
pub fn mul_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    map(x, |v| elem::mul_scalar(v, s))
}
