//! Elementwise unary ops (no batch argument needed).

use transforms_kernels::cpu;

use crate::device::on_cuda;
use crate::elem;
use crate::float::Float;
use crate::tensor::Tensor;

/// Applies `f` elementwise (internal helper shared with the operators).
#[inline]
pub(crate) fn map<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T) -> Tensor<T> {
    crate::device::cpu_only!("elementwise closure", [x]);
    Tensor::from_parts(x.shape(), cpu::map(x.as_slice(), f))
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Float>(x: &Tensor<T>) -> Tensor<T> {
            on_cuda!(stringify!($name), [x], |ord| crate::cuda::ops::unary(stringify!($name), ord, x));
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
    /// `|x|`.
    abs;
    /// `2^x`.
    exp2;
    /// `ln(1 + x)`, accurate near 0.
    log1p;
    /// `-1`, `0` or `1` by the sign of `x`: the derivative of `abs`.
    sign;
    /// `1` where `x != 0`, else `0`: the mask of a `where_` condition.
    nonzero;
}

macro_rules! scalar_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
            on_cuda!(stringify!($name), [x], |ord| crate::cuda::ops::scalar(stringify!($name), ord, x, &[s]));
            map(x, |v| elem::$name(v, s))
        }
    )*};
}

scalar_ops! {
    /// `1` where `x > s`, else `0`.
    gt_scalar;
    /// `1` where `x < s`, else `0`.
    lt_scalar;
    /// `1` where `x >= s`, else `0`.
    ge_scalar;
    /// `1` where `x <= s`, else `0`.
    le_scalar;
}

/// `min(max(x, lo), hi)` elementwise (torch.clamp).
pub fn clamp<T: Float>(x: &Tensor<T>, lo: T, hi: T) -> Tensor<T> {
    on_cuda!("clamp", [x], |ord| crate::cuda::ops::scalar(
        "clamp",
        ord,
        x,
        &[lo, hi]
    ));
    map(x, |v| elem::clamp(v, lo, hi))
}

/// `1` where `lo <= x <= hi`, else `0`: the derivative of [`clamp`].
pub fn in_range<T: Float>(x: &Tensor<T>, lo: T, hi: T) -> Tensor<T> {
    on_cuda!("in_range", [x], |ord| crate::cuda::ops::scalar(
        "in_range",
        ord,
        x,
        &[lo, hi]
    ));
    map(x, |v| elem::in_range(v, lo, hi))
}

/// `x^c` elementwise.
pub fn powf<T: Float>(x: &Tensor<T>, c: T) -> Tensor<T> {
    on_cuda!("powf", [x], |ord| crate::cuda::ops::scalar(
        "powf",
        ord,
        x,
        &[c]
    ));
    map(x, |v| elem::powf(v, c))
}

/// `x + s` elementwise.
pub fn add_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    on_cuda!("add_scalar", [x], |ord| crate::cuda::ops::scalar(
        "add_scalar",
        ord,
        x,
        &[s]
    ));
    map(x, |v| elem::add_scalar(v, s))
}

/// `x * s` elementwise.
pub fn mul_scalar<T: Float>(x: &Tensor<T>, s: T) -> Tensor<T> {
    on_cuda!("mul_scalar", [x], |ord| crate::cuda::ops::scalar(
        "mul_scalar",
        ord,
        x,
        &[s]
    ));
    map(x, |v| elem::mul_scalar(v, s))
}
