//! Elementwise unary ops (no batch argument needed).

use transforms_kernels::cpu;

use crate::float::Float;
use crate::tensor::Tensor;

/// Applies `f` elementwise (internal helper shared with the operators).
#[inline]
pub(crate) fn map<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T) -> Tensor<T> {
    Tensor::from_parts(x.shape().to_vec(), cpu::map(x.as_slice(), f))
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident => |$x:ident| $body:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Float>(x: &Tensor<T>) -> Tensor<T> {
            map(x, |$x: T| $body)
        }
    )*};
}

unary_ops! {
    /// `-x`.
    neg => |x| -x;
    /// `e^x`.
    exp => |x| x.exp();
    /// Natural logarithm.
    ln => |x| x.ln();
    /// Sine.
    sin => |x| x.sin();
    /// Cosine.
    cos => |x| x.cos();
    /// Hyperbolic tangent.
    tanh => |x| x.tanh();
    /// Square root.
    sqrt => |x| x.sqrt();
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
    sigmoid => |x| {
        if x >= T::zero() {
            T::one() / (T::one() + (-x).exp())
        } else {
            let e = x.exp();
            e / (T::one() + e)
        }
    };
    /// `max(x, 0)` (NaN propagates).
    relu => |x| if x < T::zero() { T::zero() } else { x };
    /// `x * x`.
    square => |x| x * x;
    /// `1 / x`.
    recip => |x| x.recip();
    /// `1` where `x > 0`, else `0`: the derivative of `relu`.
    heaviside => |x| if x > T::zero() { T::one() } else { T::zero() };
}

/// `x^c` elementwise.
pub fn powf<T: Float>(x: &Tensor<T>, c: T) -> Tensor<T> {
    map(x, |v| v.powf(c))
}

/// `x + s` elementwise.
pub fn add_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    map(x, |v| v + s)
}

/// `x * s` elementwise.
pub fn mul_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    map(x, |v| v * s)
}
