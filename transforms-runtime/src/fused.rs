//! Fused elementwise kernels: the compiler folds a chain of elementwise ops
//! into one closure and calls one of these, so the chain is a single pass
//! over its inputs with no temporaries. Broadcasting is that of the binary
//! ops (batch dims left-aligned, per-example parts right-aligned).

use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{
    Shape, aligned, broadcast_left, broadcast_right, broadcast_strides, fail, split,
};
use crate::tensor::Tensor;

/// `f` applied to every element of `x`.
pub fn fused1<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T) -> Tensor<T> {
    crate::device::cpu_only!("fused elementwise", [x]);
    Tensor::from_parts(x.shape(), cpu::map(x.as_slice(), f))
}

/// `f` applied elementwise to `a` and `b` broadcast together.
pub fn fused2<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T) -> T,
) -> Tensor<T> {
    crate::ops::binary("fused elementwise", a, b, nb, f)
}

/// `f` applied elementwise to `a`, `b` and `c` broadcast together.
pub fn fused3<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    c: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T, T) -> T,
) -> Tensor<T> {
    ternary("fused elementwise", a, b, c, nb, f)
}

/// [`fused1`] with the same chain also given as a CUDA C expression in `x0`
/// (the prelude's `t_<op>` functions, see `transforms_kernels::cuda`), which
/// is what runs when `x` is on a CUDA device (compiled with NVRTC at first
/// use, cached per process). The chain's scalars that are not constants
/// appear in it as `sc0, sc1, ..` with the values `scalars` (the closure
/// captures the same ones). Untested on a GPU so far.
pub fn fused1_src<T: Float>(
    x: &Tensor<T>,
    f: impl Fn(T) -> T,
    cuda: &str,
    scalars: &[T],
) -> Tensor<T> {
    crate::device::on_cuda!("fused elementwise", [x], |ord| crate::cuda::ops::fused(
        ord,
        &[x],
        0,
        cuda,
        scalars
    ));
    let _ = (cuda, scalars);
    fused1(x, f)
}

/// [`fused2`] with a CUDA C expression in `x0, x1` and its runtime
/// scalars (see [`fused1_src`]).
pub fn fused2_src<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T) -> T,
    cuda: &str,
    scalars: &[T],
) -> Tensor<T> {
    crate::device::on_cuda!("fused elementwise", [a, b], |ord| crate::cuda::ops::fused(
        ord,
        &[a, b],
        nb,
        cuda,
        scalars
    ));
    let _ = (cuda, scalars);
    fused2(a, b, nb, f)
}

/// [`fused3`] with a CUDA C expression in `x0, x1, x2` and its runtime
/// scalars (see [`fused1_src`]).
pub fn fused3_src<T: Float>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    c: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T, T) -> T,
    cuda: &str,
    scalars: &[T],
) -> Tensor<T> {
    crate::device::on_cuda!("fused elementwise", [a, b, c], |ord| {
        crate::cuda::ops::fused(ord, &[a, b, c], nb, cuda, scalars)
    });
    let _ = (cuda, scalars);
    fused3(a, b, c, nb, f)
}

/// [`fused1_src`] (or [`fused1`] without a CUDA form) of a tensor that
/// nothing reads afterwards: the result is written over `x`'s elements
/// when `x` is the only owner of a whole CPU buffer (the generated code
/// passes a dead temporary here), so the chain allocates nothing and
/// writes where it reads. Otherwise a new tensor, as [`fused1_src`].
pub fn fused1_reusing<T: Float>(
    mut x: Tensor<T>,
    f: impl Fn(T) -> T,
    cuda: Option<&str>,
    scalars: &[T],
) -> Tensor<T> {
    if let Some(xs) = x.unique_mut() {
        cpu::map_inplace(xs, f);
        return x;
    }
    match cuda {
        Some(src) => fused1_src(&x, f, src, scalars),
        None => fused1(&x, f),
    }
}

/// [`fused2_src`] writing over `a`, which nothing reads afterwards, where
/// `a` is the only owner of a whole CPU buffer and `b` has `a`'s shape
/// (see [`fused1_reusing`]).
pub fn fused2_reusing<T: Float>(
    mut a: Tensor<T>,
    b: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T) -> T,
    cuda: Option<&str>,
    scalars: &[T],
) -> Tensor<T> {
    crate::device::same_device!("fused elementwise", [&a, b]);
    if a.shape() == b.shape()
        && let Some(xs) = a.unique_mut()
    {
        cpu::zip_inplace(xs, b.as_slice(), f);
        return a;
    }
    match cuda {
        Some(src) => fused2_src(&a, b, nb, f, src, scalars),
        None => fused2(&a, b, nb, f),
    }
}

/// [`fused3_src`] writing over `a`, which nothing reads afterwards, where
/// `a` is the only owner of a whole CPU buffer and `b` and `c` have `a`'s
/// shape (see [`fused1_reusing`]).
#[allow(clippy::too_many_arguments)]
pub fn fused3_reusing<T: Float>(
    mut a: Tensor<T>,
    b: &Tensor<T>,
    c: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T, T) -> T,
    cuda: Option<&str>,
    scalars: &[T],
) -> Tensor<T> {
    crate::device::same_device!("fused elementwise", [&a, b, c]);
    if a.shape() == b.shape()
        && a.shape() == c.shape()
        && let Some(xs) = a.unique_mut()
    {
        for ((x, &y), &z) in xs.iter_mut().zip(b.as_slice()).zip(c.as_slice()) {
            *x = f(*x, y, z);
        }
        return a;
    }
    match cuda {
        Some(src) => fused3_src(&a, b, c, nb, f, src, scalars),
        None => fused3(&a, b, c, nb, f),
    }
}

/// `torch.where(c != 0, a, b)` with broadcasting of all three.
pub fn where_<T: Float>(c: &Tensor<T>, a: &Tensor<T>, b: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::on_cuda!("where", [c, a, b], |ord| crate::cuda::ops::where_(
        ord, c, a, b, nb
    ));
    ternary("where", c, a, b, nb, crate::elem::where_)
}

/// The broadcasting kernel of three operands.
fn ternary<T: Float>(
    op: &str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    c: &Tensor<T>,
    nb: usize,
    f: impl Fn(T, T, T) -> T,
) -> Tensor<T> {
    crate::device::cpu_only!(op, [a, b, c]);
    let shapes: [&[usize]; 3] = [a.shape(), b.shape(), c.shape()];
    if shapes[0] == shapes[1] && shapes[1] == shapes[2] {
        let (x, y, z) = (a.as_slice(), b.as_slice(), c.as_slice());
        let data = x
            .iter()
            .zip(y)
            .zip(z)
            .map(|((&x, &y), &z)| f(x, y, z))
            .collect();
        return Tensor::from_parts(shapes[0], data);
    }
    let parts: [(&[usize], &[usize]); 3] = shapes.map(|s| split(op, s, nb, &shapes));
    let mut batch = Shape::from_slice(parts[0].0);
    let mut pe = Shape::from_slice(parts[0].1);
    for (bt, p) in &parts[1..] {
        let (Some(nbt), Some(np)) = (broadcast_left(&batch, bt), broadcast_right(&pe, p)) else {
            fail!(op, shapes, "shapes do not broadcast");
        };
        batch = nbt;
        pe = np;
    }
    let mut out_shape = batch.clone();
    out_shape.extend_from_slice(&pe);
    let strides = parts.map(|(bt, p)| broadcast_strides(&aligned(bt, p, pe.len())));
    let data = cpu::zip3_strided(
        &out_shape,
        [a.as_slice(), b.as_slice(), c.as_slice()],
        [&strides[0], &strides[1], &strides[2]],
        f,
    );
    Tensor::from_parts(out_shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_of_a_buffer_is_never_written() {
        // A row of a stack owns its buffer alone once the stack is gone,
        // but holds only part of it: the chain gets a buffer of its own.
        for i in 0..2 {
            let stack = Tensor::from_parts([2, 3], vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
            let mut row = stack.index0(i);
            drop(stack);
            assert!(row.unique_mut().is_none(), "row {i}");
            let got = fused1_reusing(row, |x| x * 10.0, None, &[]);
            let want: Vec<f64> = (1..=3)
                .map(|v| f64::from(v + 3 * i as i32) * 10.0)
                .collect();
            assert_eq!(got.as_slice(), &want[..]);
        }
    }
}
