//! The element trait of [`Tensor`](crate::Tensor).

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// Element type of a [`Tensor`](crate::Tensor): implemented for `f32` and
/// `f64` only.
pub trait Float:
    DeviceElem
    + transforms_kernels::Element
    + num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Hyperbolic tangent (a fast few-ulp routine for `f32`, `tanh` for `f64`).
    fn tanh_elem(self) -> Self;
    /// `e^x` (a fast few-ulp routine for `f32` that vectorises, `exp` for
    /// `f64`).
    fn exp_elem(self) -> Self;
    /// The logistic sigmoid (on `exp_elem`; see `elem::sigmoid`).
    fn sigmoid_elem(self) -> Self;
    /// The natural logarithm (a fast few-ulp routine for `f32` that
    /// vectorises, `ln` for `f64`).
    fn ln_elem(self) -> Self;
}

/// What a device needs of an element type: nothing without the `cuda`
/// feature; with it, what the CUDA backend needs (kernel names, cuBLAS).
#[cfg(feature = "cuda")]
#[doc(hidden)]
pub use crate::cuda::CudaFloat as DeviceElem;

/// What a device needs of an element type: nothing without the `cuda`
/// feature; with it, what the CUDA backend needs (kernel names, cuBLAS).
#[cfg(not(feature = "cuda"))]
#[doc(hidden)]
pub trait DeviceElem {}
#[cfg(not(feature = "cuda"))]
impl DeviceElem for f32 {}
#[cfg(not(feature = "cuda"))]
impl DeviceElem for f64 {}

impl Float for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn tanh_elem(self) -> Self {
        crate::math::tanh_f32(self)
    }
    #[inline(always)]
    fn exp_elem(self) -> Self {
        crate::math::exp_f32(self)
    }
    #[inline(always)]
    fn sigmoid_elem(self) -> Self {
        crate::math::sigmoid_f32(self)
    }
    #[inline(always)]
    fn ln_elem(self) -> Self {
        crate::math::ln_f32(self)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Float for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn tanh_elem(self) -> Self {
        self.tanh()
    }
    #[inline(always)]
    fn exp_elem(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn ln_elem(self) -> Self {
        self.ln()
    }
    #[inline(always)]
    fn sigmoid_elem(self) -> Self {
        // Split so that exp never overflows.
        if self >= 0.0 {
            1.0 / (1.0 + (-self).exp())
        } else {
            let e = self.exp();
            e / (1.0 + e)
        }
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}
