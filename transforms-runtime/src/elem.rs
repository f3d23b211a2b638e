//! Per-element functions: the one definition of each elementwise op, used by
//! the unary [`ops`](crate::ops) and by the fused kernels the compiler emits
//! (`ops::fused1`, `fused2`, `fused3`), so fused and unfused code agree bit
//! for bit.

use crate::Float;

#[inline(always)]
pub fn neg<T: Float>(x: T) -> T {
    -x
}
#[inline(always)]
pub fn exp<T: Float>(x: T) -> T {
    x.exp()
}
#[inline(always)]
pub fn ln<T: Float>(x: T) -> T {
    x.ln()
}
#[inline(always)]
pub fn sin<T: Float>(x: T) -> T {
    x.sin()
}
#[inline(always)]
pub fn cos<T: Float>(x: T) -> T {
    x.cos()
}
#[inline(always)]
pub fn tanh<T: Float>(x: T) -> T {
    x.tanh_elem()
}
#[inline(always)]
pub fn sqrt<T: Float>(x: T) -> T {
    x.sqrt()
}
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    // Split so that exp never overflows.
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}
#[inline(always)]
pub fn relu<T: Float>(x: T) -> T {
    // NaN propagates.
    if x < T::zero() { T::zero() } else { x }
}
#[inline(always)]
pub fn square<T: Float>(x: T) -> T {
    x * x
}
#[inline(always)]
pub fn recip<T: Float>(x: T) -> T {
    x.recip()
}
#[inline(always)]
pub fn heaviside<T: Float>(x: T) -> T {
    if x > T::zero() { T::one() } else { T::zero() }
}
#[inline(always)]
pub fn powf<T: Float>(x: T, c: T) -> T {
    x.powf(c)
}
#[inline(always)]
pub fn add_scalar<T: Float>(x: T, s: T) -> T {
    x + s
}
#[inline(always)]
pub fn mul_scalar<T: Float>(x: T, s: T) -> T {
    x * s
}
#[inline(always)]
pub fn add<T: Float>(a: T, b: T) -> T {
    a + b
}
#[inline(always)]
pub fn sub<T: Float>(a: T, b: T) -> T {
    a - b
}
#[inline(always)]
pub fn mul<T: Float>(a: T, b: T) -> T {
    a * b
}
#[inline(always)]
pub fn div<T: Float>(a: T, b: T) -> T {
    a / b
}
