//! Per-element functions: the one definition of each elementwise op, used by
//! the unary [`ops`](crate::ops) and by the fused kernels the compiler emits
//! (`ops::fused1`, `fused2`, `fused3`), so fused and unfused code agree bit
//! for bit.

use crate::Float;

/// Zero, whatever `like` holds: `zeros_like` of one element (inside a
/// chain the compiler runs as one call, where a seed of zeros meets it).
#[inline(always)]
pub fn zero_like<T: Float>(_like: T) -> T {
    T::zero()
}
#[inline(always)]
pub fn neg<T: Float>(x: T) -> T {
    -x
}
#[inline(always)]
pub fn exp<T: Float>(x: T) -> T {
    x.exp_elem()
}
#[inline(always)]
pub fn ln<T: Float>(x: T) -> T {
    x.ln_elem()
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
    x.sigmoid_elem()
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
#[inline(always)]
pub fn abs<T: Float>(x: T) -> T {
    x.abs()
}
#[inline(always)]
pub fn exp2<T: Float>(x: T) -> T {
    x.exp2()
}
#[inline(always)]
pub fn log1p<T: Float>(x: T) -> T {
    x.ln_1p()
}
/// `-1`, `0` or `1` by the sign of `x` (`0` at `±0`, NaN propagates): the
/// derivative of `abs`, as in torch.
#[inline(always)]
pub fn sign<T: Float>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        x
    }
}
/// `1` where `x != 0` (NaN counts as non-zero), else `0`: a `where_` mask.
#[inline(always)]
pub fn nonzero<T: Float>(x: T) -> T {
    if x == T::zero() { T::zero() } else { T::one() }
}
/// The larger of `a` and `b`; NaN propagates (torch.maximum).
#[inline(always)]
pub fn maximum<T: Float>(a: T, b: T) -> T {
    if a > b {
        a
    } else if a <= b {
        b
    } else {
        a + b
    }
}
/// The smaller of `a` and `b`; NaN propagates (torch.minimum).
#[inline(always)]
pub fn minimum<T: Float>(a: T, b: T) -> T {
    if a < b {
        a
    } else if a >= b {
        b
    } else {
        a + b
    }
}
#[inline(always)]
fn mask<T: Float>(c: bool) -> T {
    if c { T::one() } else { T::zero() }
}
/// `1` where `a > b`, else `0`.
#[inline(always)]
pub fn gt<T: Float>(a: T, b: T) -> T {
    mask(a > b)
}
/// `1` where `a < b`, else `0`.
#[inline(always)]
pub fn lt<T: Float>(a: T, b: T) -> T {
    mask(a < b)
}
/// `1` where `a >= b`, else `0`.
#[inline(always)]
pub fn ge<T: Float>(a: T, b: T) -> T {
    mask(a >= b)
}
/// `1` where `a <= b`, else `0`.
#[inline(always)]
pub fn le<T: Float>(a: T, b: T) -> T {
    mask(a <= b)
}
#[inline(always)]
pub fn gt_scalar<T: Float>(x: T, s: T) -> T {
    gt(x, s)
}
#[inline(always)]
pub fn lt_scalar<T: Float>(x: T, s: T) -> T {
    lt(x, s)
}
#[inline(always)]
pub fn ge_scalar<T: Float>(x: T, s: T) -> T {
    ge(x, s)
}
#[inline(always)]
pub fn le_scalar<T: Float>(x: T, s: T) -> T {
    le(x, s)
}
/// `min(max(x, lo), hi)` (torch.clamp: `hi` wins when `lo > hi`; NaN propagates).
#[inline(always)]
pub fn clamp<T: Float>(x: T, lo: T, hi: T) -> T {
    minimum(maximum(x, lo), hi)
}
/// `1` where `lo <= x <= hi`, else `0`: the derivative of `clamp` (torch's
/// convention: the bounds count as inside).
#[inline(always)]
pub fn in_range<T: Float>(x: T, lo: T, hi: T) -> T {
    mask(lo <= x && x <= hi)
}
/// `a` where `c != 0`, else `b` (torch.where with a 0/1 float condition).
#[inline(always)]
pub fn where_<T: Float>(c: T, a: T, b: T) -> T {
    if c == T::zero() { b } else { a }
}
