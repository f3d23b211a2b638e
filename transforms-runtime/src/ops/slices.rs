//! Ops along one per-example dim: concatenation and its slices, narrowing
//! and its zero padding, index selection and its scatter-add, and the max
//! along a dim. Each works on blocks `[outer, size, inner]` of the full
//! shape around the dim.

use std::borrow::Cow;

use transforms_kernels::cpu;

use crate::float::Float;
use crate::shape::{aligned, broadcast_left, broadcast_strides, fail, norm_dim, split};
use crate::tensor::Tensor;

/// `(outer, size, inner)` of `shape` around axis `a`.
fn blocks(shape: &[usize], a: usize) -> (usize, usize, usize) {
    let outer = shape[..a].iter().product();
    let inner = shape[a + 1..].iter().product();
    (outer, shape[a], inner)
}

/// `x` with its batch dims broadcast to `batch` (a copy only when needed).
fn with_batch<'a, T: Float>(x: &'a Tensor<T>, batch: &[usize], nb: usize) -> Cow<'a, Tensor<T>> {
    if &x.shape()[..nb] == batch {
        return Cow::Borrowed(x);
    }
    let pe = &x.shape()[nb..];
    let shape = [batch, pe].concat();
    let strides = broadcast_strides(&aligned(&x.shape()[..nb], pe, pe.len()));
    Cow::Owned(Tensor::from_parts(
        shape.clone(),
        cpu::copy_strided(&shape, x.as_slice(), &strides),
    ))
}

/// Concatenates the tensors along pe dim `d` (torch.cat). The pe shapes
/// must agree except along `d`; batch dims broadcast.
pub fn cat<T: Float>(xs: &[&Tensor<T>], d: isize, nb: usize) -> Tensor<T> {
    crate::device::cpu_only!("cat", slice xs);
    let all: Vec<&[usize]> = xs.iter().map(|x| x.shape()).collect();
    let Some(first) = xs.first() else {
        panic!("transforms: cat: expected at least one tensor, got none");
    };
    let (_, p0) = split("cat", first.shape(), nb, &all);
    if p0.is_empty() {
        fail!("cat", all, "zero-dim tensors cannot be concatenated");
    }
    let dd = norm_dim("cat", d, p0.len(), &all);
    let mut batch = first.shape()[..nb].to_vec();
    let mut size = 0;
    for x in xs {
        let (b, p) = split("cat", x.shape(), nb, &all);
        let same = agree_except(p, p0, dd);
        if !same {
            fail!(
                "cat",
                all,
                "the per-example shapes must agree except along dim {dd}"
            );
        }
        let Some(nbatch) = broadcast_left(&batch, b) else {
            fail!("cat", all, "batch dims do not broadcast");
        };
        batch = nbatch;
        size += p[dd];
    }
    let full: Vec<Cow<'_, Tensor<T>>> = xs.iter().map(|x| with_batch(x, &batch, nb)).collect();
    let a = nb + dd;
    let mut shape = [&batch[..], p0].concat();
    shape[a] = size;
    let (outer, _, inner) = blocks(&shape, a);
    let mut data = Vec::with_capacity(shape.iter().product());
    for o in 0..outer {
        for x in &full {
            let n = x.shape()[a] * inner;
            data.extend_from_slice(&x.as_slice()[o * n..(o + 1) * n]);
        }
    }
    Tensor::from_parts(shape, data)
}

/// Part `i` of `x` cut along pe dim `d` into the sizes that `likes` have
/// there: the adjoint of [`cat`] in its input `i`. Batch dims are `x`'s.
pub fn cat_slice<T: Float>(
    x: &Tensor<T>,
    d: isize,
    i: usize,
    likes: &[&Tensor<T>],
    nb: usize,
) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    {
        let mut all = vec![x];
        all.extend_from_slice(likes);
        crate::device::cpu_only!("cat_slice", slice & all);
    }
    let mut all: Vec<&[usize]> = vec![x.shape()];
    all.extend(likes.iter().map(|l| l.shape()));
    let (_, p) = split("cat_slice", x.shape(), nb, &all);
    let dd = norm_dim("cat_slice", d, p.len(), &all);
    let sizes: Vec<usize> = likes
        .iter()
        .map(|l| {
            let (_, lp) = split("cat_slice", l.shape(), nb, &all);
            if lp.len() != p.len() {
                fail!("cat_slice", all, "the per-example ranks differ");
            }
            lp[dd]
        })
        .collect();
    if sizes.iter().sum::<usize>() != p[dd] || i >= sizes.len() {
        fail!("cat_slice", all, "the parts do not add up along dim {dd}");
    }
    let start = sizes[..i].iter().sum::<usize>();
    narrow(x, dd as isize, start as isize, sizes[i], nb)
}

/// The positions `start..start + len` of pe dim `d`, resolving a negative
/// `start` against the dim's size.
fn span(op: &str, d: usize, start: isize, len: usize, size: usize, all: &[&[usize]]) -> usize {
    let s = if start < 0 {
        start + size as isize
    } else {
        start
    };
    if s < 0 || s as usize + len > size {
        fail!(
            op,
            all,
            "start {start} and length {len} do not fit dim {d} of size {size}"
        );
    }
    s as usize
}

/// The slice `start..start + len` of pe dim `d` (torch.narrow; a negative
/// `start` counts from the end).
pub fn narrow<T: Float>(x: &Tensor<T>, d: isize, start: isize, len: usize, nb: usize) -> Tensor<T> {
    crate::device::cpu_only!("narrow", [x]);
    let all = [x.shape()];
    let (_, p) = split("narrow", x.shape(), nb, &all);
    let dd = norm_dim("narrow", d, p.len(), &all);
    let s = span("narrow", dd, start, len, p[dd], &all);
    let (outer, size, inner) = blocks(x.shape(), nb + dd);
    let src = x.as_slice();
    let mut data = Vec::with_capacity(outer * len * inner);
    for o in 0..outer {
        let base = (o * size + s) * inner;
        data.extend_from_slice(&src[base..base + len * inner]);
    }
    let mut shape = x.shape().to_vec();
    shape[nb + dd] = len;
    Tensor::from_parts(shape, data)
}

/// Zeros of `like`'s pe shape with `x` placed at `start..` along pe dim `d`:
/// the adjoint of [`narrow`]. Batch dims are `x`'s.
pub fn pad_like<T: Float>(
    x: &Tensor<T>,
    d: isize,
    start: isize,
    like: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    {
        crate::device::cpu_only!("pad_like", [x, like]);
    }
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (b, p) = split("pad_like", x.shape(), nb, &all);
    let (_, lp) = split("pad_like", like.shape(), nb, &all);
    let dd = norm_dim("pad_like", d, lp.len(), &all);
    let fits = agree_except(p, lp, dd);
    if !fits {
        fail!(
            "pad_like",
            all,
            "the per-example shapes must agree except along dim {dd}"
        );
    }
    let len = p[dd];
    let s = span("pad_like", dd, start, len, lp[dd], &all);
    let shape = [b, lp].concat();
    let (outer, size, inner) = blocks(&shape, nb + dd);
    let mut data = vec![T::zero(); shape.iter().product()];
    for (o, chunk) in x
        .as_slice()
        .chunks_exact((len * inner).max(1))
        .enumerate()
        .take(outer)
    {
        let base = (o * size + s) * inner;
        data[base..base + len * inner].copy_from_slice(&chunk[..len * inner]);
    }
    Tensor::from_parts(shape, data)
}

/// Checks the indices against dim `dd` of size `size`.
fn check_indices(op: &str, idx: &[usize], dd: usize, size: usize, all: &[&[usize]]) {
    if let Some(bad) = idx.iter().find(|&&i| i >= size) {
        fail!(
            op,
            all,
            "index {bad} is out of range for dim {dd} of size {size}"
        );
    }
}

/// The entries `idx` of pe dim `d`, in order (torch.index_select).
pub fn index_select<T: Float>(x: &Tensor<T>, d: isize, idx: &[usize], nb: usize) -> Tensor<T> {
    crate::device::cpu_only!("index_select", [x]);
    let all = [x.shape()];
    let (_, p) = split("index_select", x.shape(), nb, &all);
    if p.is_empty() {
        fail!("index_select", all, "expects at least one per-example dim");
    }
    let dd = norm_dim("index_select", d, p.len(), &all);
    check_indices("index_select", idx, dd, p[dd], &all);
    let (outer, size, inner) = blocks(x.shape(), nb + dd);
    let src = x.as_slice();
    let mut data = Vec::with_capacity(outer * idx.len() * inner);
    for o in 0..outer {
        for &i in idx {
            let base = (o * size + i) * inner;
            data.extend_from_slice(&src[base..base + inner]);
        }
    }
    let mut shape = x.shape().to_vec();
    shape[nb + dd] = idx.len();
    Tensor::from_parts(shape, data)
}

/// Zeros of `like`'s pe shape into which slice `k` of `x` along pe dim `d`
/// is added at index `idx[k]` (repeated indices accumulate): the adjoint of
/// [`index_select`]. Batch dims are `x`'s.
pub fn index_add_like<T: Float>(
    x: &Tensor<T>,
    d: isize,
    idx: &[usize],
    like: &Tensor<T>,
    nb: usize,
) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    {
        crate::device::cpu_only!("index_add_like", [x, like]);
    }
    let all: [&[usize]; 2] = [x.shape(), like.shape()];
    let (b, p) = split("index_add_like", x.shape(), nb, &all);
    let (_, lp) = split("index_add_like", like.shape(), nb, &all);
    if lp.is_empty() {
        fail!(
            "index_add_like",
            all,
            "expects at least one per-example dim"
        );
    }
    let dd = norm_dim("index_add_like", d, lp.len(), &all);
    let fits = agree_except(p, lp, dd) && p[dd] == idx.len();
    if !fits {
        fail!(
            "index_add_like",
            all,
            "expected {} entries along dim {dd} and equal sizes elsewhere",
            idx.len()
        );
    }
    check_indices("index_add_like", idx, dd, lp[dd], &all);
    let shape = [b, lp].concat();
    let (outer, size, inner) = blocks(&shape, nb + dd);
    let src = x.as_slice();
    let mut data = vec![T::zero(); shape.iter().product()];
    for o in 0..outer {
        for (k, &i) in idx.iter().enumerate() {
            let from = (o * idx.len() + k) * inner;
            let to = (o * size + i) * inner;
            for (acc, &v) in data[to..to + inner]
                .iter_mut()
                .zip(&src[from..from + inner])
            {
                *acc += v;
            }
        }
    }
    Tensor::from_parts(shape, data)
}

/// The max along pe dim `d`, which is removed; `f` maps each result.
fn max_along<T: Float>(
    op: &str,
    x: &Tensor<T>,
    d: isize,
    nb: usize,
    f: impl Fn(T) -> T,
) -> Tensor<T> {
    let all = [x.shape()];
    let (_, p) = split(op, x.shape(), nb, &all);
    if p.is_empty() {
        fail!(op, all, "expects at least one per-example dim");
    }
    let dd = norm_dim(op, d, p.len(), &all);
    let (outer, size, inner) = blocks(x.shape(), nb + dd);
    if size == 0 {
        fail!(op, all, "dim {dd} is empty");
    }
    let src = x.as_slice();
    let mut data = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        let block = &src[o * size * inner..(o + 1) * size * inner];
        let mut acc = block[..inner].to_vec();
        for row in block.chunks_exact(inner.max(1)).skip(1) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = crate::elem::maximum(*a, v);
            }
        }
        data.extend(acc.into_iter().map(&f));
    }
    let mut shape = x.shape().to_vec();
    shape.remove(nb + dd);
    Tensor::from_parts(shape, data)
}

/// The max along pe dim `d`, which is removed (torch.amax; NaN propagates).
pub fn amax<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    crate::device::cpu_only!("amax", [x]);
    max_along("max_dim", x, d, nb, |v| v)
}

/// [`amax`] with non-finite results replaced by 0: the shift that keeps
/// `softmax`/`logsumexp` from overflowing (it carries no derivative).
pub fn max_shift<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    crate::device::cpu_only!("max_shift", [x]);
    max_along("max_shift", x, d, nb, |v| {
        if v.is_finite() { v } else { T::zero() }
    })
}

/// Whether two per-example shapes have the same rank and agree except along `d`.
fn agree_except(a: &[usize], b: &[usize], d: usize) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| i == d || x == y)
}
