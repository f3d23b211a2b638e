//! Broadcasting binary ops.

use transforms_kernels::cpu;

use crate::elem;
use crate::float::Float;
use crate::shape::{
    aligned, broadcast_left, broadcast_right, broadcast_strides, fail, joined, split,
};
use crate::tensor::Tensor;

/// The broadcasting binary kernel behind `add`/`sub`/`mul`/`div`: batch dims
/// broadcast left-aligned, pe parts right-aligned.
pub(crate) fn binary<T: Float>(
    op: &'static str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T) -> T,
) -> Tensor<T> {
    crate::device::on_cuda!(op, [a, b], |ord| crate::cuda::ops::binary(
        op, ord, a, b, nb
    ));
    let (sa, sb) = (a.shape(), b.shape());
    let all: [&[usize]; 2] = [sa, sb];
    let (ba, pa) = split(op, sa, nb, &all);
    let (bb, pb) = split(op, sb, nb, &all);
    if sa == sb {
        return Tensor::from_parts(sa, cpu::zip(a.as_slice(), b.as_slice(), f));
    }
    let Some(batch) = broadcast_left(ba, bb) else {
        fail!(op, [sa, sb], "batch dims do not broadcast");
    };
    let Some(pe) = broadcast_right(pa, pb) else {
        fail!(op, [sa, sb], "shapes do not broadcast");
    };
    let out_shape = joined(&[&batch, &pe]);
    // `x * 1` and `x / 1` are `x` (-0 and infinities exactly, NaN stays NaN): a
    // product with ones of the other operand's shape is that operand,
    // shared (a seed's ones that the compiler could not keep symbolic).
    // A scan of the ones stops at the first element that is not one.
    let ones = |t: &Tensor<T>| cpu::all_equal(t.as_slice(), T::one());
    if matches!(op, "mul" | "div") && &out_shape[..] == sa && ones(b) {
        return a.clone();
    }
    if op == "mul" && &out_shape[..] == sb && ones(a) {
        return b.clone();
    }
    let data = if b.numel() == 1 && &out_shape[..] == sa {
        let y = b.as_slice()[0];
        cpu::map(a.as_slice(), |x| f(x, y))
    } else if a.numel() == 1 && &out_shape[..] == sb {
        let x = a.as_slice()[0];
        cpu::map(b.as_slice(), |y| f(x, y))
    } else if let Some(data) = repeated(a, &aligned(bb, pb, pe.len()), b, &out_shape, &f) {
        data
    } else if let Some(data) = repeated(b, &aligned(ba, pa, pe.len()), a, &out_shape, &|y, x| {
        f(x, y)
    }) {
        data
    } else {
        let stride_a = broadcast_strides(&aligned(ba, pa, pe.len()));
        let stride_b = broadcast_strides(&aligned(bb, pb, pe.len()));
        cpu::zip_strided(
            &out_shape,
            a.as_slice(),
            &stride_a,
            b.as_slice(),
            &stride_b,
            f,
        )
    };
    Tensor::from_parts(out_shape, data)
}

/// Fast paths for a full operand `full` (of shape `out`) against a smaller
/// one `small` (aligned shape `fs`) that repeats as a whole (`fs` = ones then
/// `out`'s tail) or element by element (`fs` = `out`'s head then ones):
/// contiguous loops instead of strided iteration. `f(full, small)`.
fn repeated<T: Float>(
    full: &Tensor<T>,
    fs: &[usize],
    small: &Tensor<T>,
    out: &[usize],
    f: &impl Fn(T, T) -> T,
) -> Option<Vec<T>> {
    if full.shape() != out || small.numel() == 0 {
        return None;
    }
    let (x, y) = (full.as_slice(), small.as_slice());
    let k = fs.iter().take_while(|&&d| d == 1).count();
    if fs[k..] == out[k..] {
        let mut data = Vec::with_capacity(x.len());
        for chunk in x.chunks_exact(y.len()) {
            data.extend(chunk.iter().zip(y).map(|(&a, &b)| f(a, b)));
        }
        return Some(data);
    }
    let j = fs.len() - fs.iter().rev().take_while(|&&d| d == 1).count();
    if fs[..j] == out[..j] {
        let inner = x.len() / y.len();
        let mut data = Vec::with_capacity(x.len());
        for (chunk, &b) in x.chunks_exact(inner).zip(y) {
            data.extend(chunk.iter().map(|&a| f(a, b)));
        }
        return Some(data);
    }
    None
}

/// `a + b` with broadcasting (batch dims left-aligned, pe parts numpy-style).
pub fn add<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    binary("add", a, b, nb, elem::add)
}

/// `a - b` with broadcasting.
pub fn sub<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    binary("sub", a, b, nb, elem::sub)
}

/// `a * b` (elementwise) with broadcasting.
pub fn mul<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    binary("mul", a, b, nb, elem::mul)
}

/// `a / b` (elementwise) with broadcasting.
pub fn div<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    binary("div", a, b, nb, elem::div)
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Float>(a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
            binary(stringify!($name), a, b, nb, elem::$name)
        }
    )*};
}

binary_ops! {
    /// The elementwise larger of `a` and `b` with broadcasting (torch.maximum).
    maximum;
    /// The elementwise smaller of `a` and `b` with broadcasting (torch.minimum).
    minimum;
    /// `1` where `a > b`, else `0`, with broadcasting.
    gt;
    /// `1` where `a < b`, else `0`, with broadcasting.
    lt;
    /// `1` where `a >= b`, else `0`, with broadcasting.
    ge;
    /// `1` where `a <= b`, else `0`, with broadcasting.
    le;
}
