//! Shape ops on the per-example part: reshape, transpose, (un)squeeze,
//! movedim, flatten/unflatten.

use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{Shape, fail, joined, norm_dim, split};
use crate::tensor::Tensor;

/// Same data, new shape (the element count must already match); no copy.
fn with_shape<T: Float>(x: &Tensor<T>, shape: Shape) -> Tensor<T> {
    x.reshaped(&shape)
}

/// Permutes all dims of `x` (`perm[i]` = source dim of output dim `i`).
pub(crate) fn permute<T: Float>(x: &Tensor<T>, perm: &[usize]) -> Tensor<T> {
    // Moving only dims of size 1 keeps the element order: no copy.
    let big = |&&p: &&usize| x.shape()[p] != 1;
    if perm.iter().filter(big).is_sorted() {
        let shape: Shape = perm.iter().map(|&p| x.shape()[p]).collect();
        return x.reshaped(&shape);
    }
    let strides = cpu::contiguous_strides(x.shape());
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let st: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    crate::ops::broadcast::gather("permute", x, shape, &st)
}

/// Reshapes the pe part to `shape` (one entry may be `-1`, inferred).
pub fn reshape<T: Float>(x: &Tensor<T>, shape: &[isize], nb: usize) -> Tensor<T> {
    let (b, p) = split("reshape", x.shape(), nb, &[x.shape()]);
    // Flattening what is already flat (as `jacrev` does to a vector
    // output) keeps the tensor as it is.
    if shape == [-1] && p.len() == 1 {
        return x.clone();
    }
    let numel: usize = p.iter().product();
    let bad = |why: &str| -> ! {
        fail!(
            "reshape",
            [x.shape()],
            "cannot reshape the per-example part to {shape:?}: {why}"
        )
    };
    if shape.iter().filter(|&&d| d == -1).count() > 1 {
        bad("only one dim may be -1");
    }
    if shape.iter().any(|&d| d < -1) {
        bad("negative size");
    }
    let known: usize = shape
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .product();
    let new_pe: Shape = if shape.contains(&-1) {
        if known == 0 || !numel.is_multiple_of(known) {
            bad("the size of the -1 dim cannot be inferred");
        }
        shape
            .iter()
            .map(|&d| if d == -1 { numel / known } else { d as usize })
            .collect()
    } else {
        if known != numel {
            bad("the element counts differ");
        }
        shape.iter().map(|&d| d as usize).collect()
    };
    with_shape(x, joined(&[b, &new_pe[..]]))
}

/// Reshapes the pe part of `x` to the pe shape of `like`.
pub fn reshape_like<T: Float>(x: &Tensor<T>, like: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::same_device!("reshape_like", [x, like]);
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (b, p) = split("reshape_like", x.shape(), nb, &all);
    let (_, lp) = split("reshape_like", like.shape(), nb, &all);
    if p.iter().product::<usize>() != lp.iter().product::<usize>() {
        fail!("reshape_like", all, "the per-example element counts differ");
    }
    with_shape(x, joined(&[b, lp]))
}

/// Swaps pe dims `a` and `b`.
pub fn transpose<T: Float>(x: &Tensor<T>, a: isize, b: isize, nb: usize) -> Tensor<T> {
    let (_, p) = split("transpose", x.shape(), nb, &[x.shape()]);
    let a = norm_dim("transpose", a, p.len(), &[x.shape()]);
    let b = norm_dim("transpose", b, p.len(), &[x.shape()]);
    let mut perm: Vec<usize> = (0..x.ndim()).collect();
    perm.swap(nb + a, nb + b);
    permute(x, &perm)
}

/// torch `.t()` on the pe part: copy for pe rank <= 1, swap for rank 2.
///
/// # Panics
/// If the pe rank is above 2.
pub fn t<T: Float>(x: &Tensor<T>, nb: usize) -> Tensor<T> {
    let (_, p) = split("t", x.shape(), nb, &[x.shape()]);
    match p.len() {
        0 | 1 => x.clone(),
        2 => transpose(x, 0, 1, nb),
        _ => fail!("t", [x.shape()], "expects at most 2 per-example dims"),
    }
}

/// Inserts a size-1 pe dim at `d` (negative: `d + pe_rank + 1`).
pub fn unsqueeze<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    let (_, p) = split("unsqueeze", x.shape(), nb, &[x.shape()]);
    let d = norm_dim("unsqueeze", d, p.len() + 1, &[x.shape()]);
    let mut shape = Shape::from_slice(x.shape());
    shape.insert(nb + d, 1);
    with_shape(x, shape)
}

/// Removes pe dim `d`, which must have size 1.
pub fn squeeze<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    let (_, p) = split("squeeze", x.shape(), nb, &[x.shape()]);
    let d = norm_dim("squeeze", d, p.len(), &[x.shape()]);
    if p[d] != 1 {
        fail!(
            "squeeze",
            [x.shape()],
            "per-example dim {d} has size {}, not 1",
            p[d]
        );
    }
    let mut shape = Shape::from_slice(x.shape());
    shape.remove(nb + d);
    with_shape(x, shape)
}

/// Moves pe dim `src` to position `dst` (torch.movedim).
pub fn movedim<T: Float>(x: &Tensor<T>, src: isize, dst: isize, nb: usize) -> Tensor<T> {
    let (_, p) = split("movedim", x.shape(), nb, &[x.shape()]);
    let s = norm_dim("movedim", src, p.len(), &[x.shape()]);
    let d = norm_dim("movedim", dst, p.len(), &[x.shape()]);
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| i != s).collect();
    order.insert(d, s);
    let perm: Vec<usize> = (0..nb).chain(order.into_iter().map(|i| nb + i)).collect();
    permute(x, &perm)
}

/// Replaces pe dim `d` of `x` (whose size must be the pe element count of
/// `like`) by `like`'s pe shape.
pub fn unflatten_like<T: Float>(x: &Tensor<T>, d: isize, like: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::same_device!("unflatten_like", [x, like]);
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (b, p) = split("unflatten_like", x.shape(), nb, &all);
    let (_, lp) = split("unflatten_like", like.shape(), nb, &all);
    let d = norm_dim("unflatten_like", d, p.len(), &all);
    // Unflattening into one dim of the same size changes nothing.
    if lp == [p[d]] {
        return x.clone();
    }
    let n: usize = lp.iter().product();
    if p[d] != n {
        fail!(
            "unflatten_like",
            all,
            "per-example dim {d} has size {} but {n} elements are needed",
            p[d]
        );
    }
    with_shape(x, joined(&[b, &p[..d], lp, &p[d + 1..]]))
}

/// Inverse of [`unflatten_like`]: merges the block of pe dims shaped like
/// `like`'s pe part into one dim. For `d >= 0` the block starts at `d`; for
/// `d < 0` it ends at pe index `pe_rank + d`. An empty `like` pe shape inserts
/// a size-1 dim there.
pub fn flatten_like<T: Float>(x: &Tensor<T>, d: isize, like: &Tensor<T>, nb: usize) -> Tensor<T> {
    crate::device::same_device!("flatten_like", [x, like]);
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (b, p) = split("flatten_like", x.shape(), nb, &all);
    let (_, lp) = split("flatten_like", like.shape(), nb, &all);
    let (r, k) = (p.len() as isize, lp.len() as isize);
    let start = if d >= 0 { d } else { r + d + 1 - k };
    if start < 0 || start + k > r {
        fail!(
            "flatten_like",
            all,
            "dim {d} does not fit a block of {k} per-example dims"
        );
    }
    let (s, e) = (start as usize, (start + k) as usize);
    if &p[s..e] != lp {
        fail!(
            "flatten_like",
            all,
            "per-example dims {s}..{e} do not match the shape to flatten"
        );
    }
    let n: usize = lp.iter().product();
    with_shape(x, joined(&[b, &p[..s], &[n], &p[e..]]))
}
