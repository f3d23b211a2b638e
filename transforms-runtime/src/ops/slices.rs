//! Ops along one per-example dim: concatenation and its slices, narrowing
//! and its zero padding, index selection and its scatter-add, and the max
//! along a dim. Each works on blocks `[outer, size, inner]` of the full
//! shape around the dim.

use std::borrow::Cow;

use crate::float::Float;
use crate::shape::{Shape, aligned, broadcast_left, broadcast_strides, fail, norm_dim, split};
use crate::tensor::Tensor;

/// `(outer, size, inner)` of `shape` around axis `a`.
fn blocks(shape: &[usize], a: usize) -> (usize, usize, usize) {
    let outer = shape[..a].iter().product();
    let inner = shape[a + 1..].iter().product();
    (outer, shape[a], inner)
}

/// The blocks `[outer, size, inner]` of a contiguous tensor around one dim
/// (what the CUDA kernels of these ops take).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) struct Blocks {
    pub outer: usize,
    pub size: usize,
    pub inner: usize,
}

#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
impl Blocks {
    fn of(shape: &[usize], a: usize) -> Self {
        let (outer, size, inner) = blocks(shape, a);
        Blocks { outer, size, inner }
    }
}

/// The positions `k` of `idx` grouped by target (`idx[k] < size`), each
/// group in increasing `k`: group `r` is `ks[starts[r]..starts[r + 1]]`.
/// How the CUDA scatter-add adds repeated indices in the CPU's order.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) fn by_target(idx: &[usize], size: usize) -> (Vec<usize>, Vec<usize>) {
    let mut starts = vec![0usize; size + 1];
    for &i in idx {
        starts[i + 1] += 1;
    }
    for r in 0..size {
        starts[r + 1] += starts[r];
    }
    let mut next = starts.clone();
    let mut ks = vec![0usize; idx.len()];
    for (k, &i) in idx.iter().enumerate() {
        ks[next[i]] = k;
        next[i] += 1;
    }
    (starts, ks)
}

/// `x` with its batch dims broadcast to `batch` (a copy only when needed).
fn with_batch<'a, T: Float>(x: &'a Tensor<T>, batch: &[usize], nb: usize) -> Cow<'a, Tensor<T>> {
    if &x.shape()[..nb] == batch {
        return Cow::Borrowed(x);
    }
    let pe = &x.shape()[nb..];
    let shape = [batch, pe].concat();
    let strides = broadcast_strides(&aligned(&x.shape()[..nb], pe, pe.len()));
    Cow::Owned(super::broadcast::gather("cat", x, shape, &strides))
}

/// Concatenates the tensors along pe dim `d` (torch.cat). The pe shapes
/// must agree except along `d`; batch dims broadcast.
pub fn cat<T: Float>(xs: &[&Tensor<T>], d: isize, nb: usize) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    let on_cuda = crate::device::cuda_ordinal("cat", xs).is_some();
    let all: Vec<&[usize]> = xs.iter().map(|x| x.shape()).collect();
    let Some(first) = xs.first() else {
        panic!("transforms: cat: expected at least one tensor, got none");
    };
    let (_, p0) = split("cat", first.shape(), nb, &all);
    if p0.is_empty() {
        fail!("cat", all, "zero-dim tensors cannot be concatenated");
    }
    let dd = norm_dim("cat", d, p0.len(), &all);
    let mut batch = Shape::from_slice(&first.shape()[..nb]);
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
    #[cfg(feature = "cuda")]
    if on_cuda {
        let mut start = 0;
        let parts: Vec<(&Tensor<T>, usize)> = full
            .iter()
            .map(|x| {
                let at = start;
                start += x.shape()[a];
                (x.as_ref(), at)
            })
            .collect();
        return crate::cuda::slices::cat("cat", &parts, Blocks::of(&shape, a), shape);
    }
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
        // Mixed devices fail here; on a CUDA device the slice is `narrow`'s.
        let _ = crate::device::cuda_ordinal("cat_slice", &all);
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
    let all = [x.shape()];
    let (_, p) = split("narrow", x.shape(), nb, &all);
    let dd = norm_dim("narrow", d, p.len(), &all);
    let s = span("narrow", dd, start, len, p[dd], &all);
    crate::device::on_cuda!("narrow", [x], |_ord| {
        let mut shape = x.shape().to_vec();
        shape[nb + dd] = len;
        crate::cuda::slices::narrow("narrow", x, Blocks::of(x.shape(), nb + dd), s, len, shape)
    });
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
    crate::device::same_device!("pad_like", [x, like]);
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
    crate::device::on_cuda!("pad_like", [x], |_ord| {
        let blocks = Blocks::of(&shape, nb + dd);
        crate::cuda::slices::pad("pad_like", x, blocks, s, shape)
    });
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
    let all = [x.shape()];
    let (_, p) = split("index_select", x.shape(), nb, &all);
    if p.is_empty() {
        fail!("index_select", all, "expects at least one per-example dim");
    }
    let dd = norm_dim("index_select", d, p.len(), &all);
    check_indices("index_select", idx, dd, p[dd], &all);
    crate::device::on_cuda!("index_select", [x], |_ord| {
        let mut shape = x.shape().to_vec();
        shape[nb + dd] = idx.len();
        let blocks = Blocks::of(x.shape(), nb + dd);
        crate::cuda::slices::index_select("index_select", x, blocks, idx, shape)
    });
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
    crate::device::same_device!("index_add_like", [x, like]);
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
    crate::device::on_cuda!("index_add_like", [x], |_ord| {
        let blocks = Blocks::of(&shape, nb + dd);
        crate::cuda::slices::index_add("index_add_like", x, blocks, idx, shape)
    });
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

/// The max along pe dim `d`, which is removed; with `shift`, non-finite
/// results are replaced by 0.
fn max_along<T: Float>(op: &str, x: &Tensor<T>, d: isize, nb: usize, shift: bool) -> Tensor<T> {
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
    let mut shape = x.shape().to_vec();
    shape.remove(nb + dd);
    crate::device::on_cuda!(op, [x], |_ord| {
        let blocks = Blocks::of(x.shape(), nb + dd);
        crate::cuda::slices::max_along(op, x, blocks, shift, shape)
    });
    let f = |v: T| {
        if shift && !v.is_finite() {
            T::zero()
        } else {
            v
        }
    };
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
        data.extend(acc.into_iter().map(f));
    }
    Tensor::from_parts(shape, data)
}

/// The max along pe dim `d`, which is removed (torch.amax; NaN propagates).
pub fn amax<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    max_along("max_dim", x, d, nb, false)
}

/// [`amax`] with non-finite results replaced by 0: the shift that keeps
/// `softmax`/`logsumexp` from overflowing (it carries no derivative).
pub fn max_shift<T: Float>(x: &Tensor<T>, d: isize, nb: usize) -> Tensor<T> {
    max_along("max_shift", x, d, nb, true)
}

/// Whether two per-example shapes have the same rank and agree except along `d`.
fn agree_except(a: &[usize], b: &[usize], d: usize) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| i == d || x == y)
}

#[cfg(test)]
mod tests {
    //! The index arithmetic of `kernels/cuda/slices.cu`, written out here
    //! over the same blocks and checked against the CPU ops: what a CUDA
    //! device computes, short of running the kernels.
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor<f64> {
        let n: usize = shape.iter().product();
        Tensor::from_parts(shape, (0..n).map(|i| i as f64 * 0.5 - 3.0).collect())
    }

    /// `place_<ty>`: x [outer, len, inner] into y at `start` of its middle dim.
    fn place(x: &[f64], y: &mut [f64], b: Blocks, start: usize, len: usize) {
        for (i, &v) in x.iter().enumerate() {
            let (c, r, o) = (i % b.inner, (i / b.inner) % len, i / (b.inner * len));
            y[(o * b.size + start + r) * b.inner + c] = v;
        }
    }

    #[test]
    fn the_cuda_index_arithmetic_matches_the_cpu_ops() {
        // [2, 5, 3] around dim 1 (nb = 0) and, batched, [2 | 5, 3] around pe dim 0.
        for (nb, d) in [(0, 1isize), (1, 0)] {
            let x = ramp(&[2, 5, 3]);
            let a = nb + d as usize;
            let b = Blocks::of(x.shape(), a);
            // narrow: the strided copy [outer, len, inner] from offset start * inner.
            let (start, len) = (1, 3);
            let want = narrow(&x, d, start as isize, len, nb);
            let got = transforms_kernels::cpu::copy_strided(
                &[b.outer, len, b.inner],
                &x.as_slice()[start * b.inner..],
                &[b.size * b.inner, b.inner, 1],
            );
            assert_eq!(got, want.to_vec(), "narrow nb {nb}");
            // pad_like: place into zeros.
            let mut y = vec![0.0; x.numel()];
            place(want.as_slice(), &mut y, b, start, len);
            assert_eq!(
                y,
                pad_like(&want, d, start as isize, &x, nb).to_vec(),
                "pad nb {nb}"
            );
            // cat: each part placed at its running start.
            let parts = [ramp(&[2, 2, 3]), ramp(&[2, 4, 3])];
            let whole = cat(&[&parts[0], &parts[1]], d, nb);
            let bw = Blocks::of(whole.shape(), a);
            let mut y = vec![0.0; whole.numel()];
            place(parts[0].as_slice(), &mut y, bw, 0, 2);
            place(parts[1].as_slice(), &mut y, bw, 2, 4);
            assert_eq!(y, whole.to_vec(), "cat nb {nb}");
            // index_select: gather_<ty>.
            let idx = [4, 0, 4, 2];
            let sel = index_select(&x, d, &idx, nb);
            let n = b.outer * idx.len() * b.inner;
            let got: Vec<f64> = (0..n)
                .map(|i| {
                    let (c, j, o) = (
                        i % b.inner,
                        (i / b.inner) % idx.len(),
                        i / (b.inner * idx.len()),
                    );
                    x.as_slice()[(o * b.size + idx[j]) * b.inner + c]
                })
                .collect();
            assert_eq!(got, sel.to_vec(), "index_select nb {nb}");
            // index_add_like: index_add_<ty> over the targets' groups.
            let (starts, ks) = by_target(&idx, b.size);
            let s = sel.as_slice();
            let got: Vec<f64> = (0..x.numel())
                .map(|i| {
                    let (c, r, o) = (i % b.inner, (i / b.inner) % b.size, i / (b.inner * b.size));
                    (starts[r]..starts[r + 1])
                        .fold(0.0, |acc, t| acc + s[(o * idx.len() + ks[t]) * b.inner + c])
                })
                .collect();
            assert_eq!(
                got,
                index_add_like(&sel, d, &idx, &x, nb).to_vec(),
                "index_add nb {nb}"
            );
            // amax / max_shift: max_<ty>, rows in order, with a NaN and an inf.
            let mut v = x.to_vec();
            v[b.inner + 1] = f64::NAN;
            let last = v.len() - 1;
            v[last] = f64::INFINITY;
            let xn = Tensor::from_parts(x.shape(), v);
            for shift in [false, true] {
                let got: Vec<f64> = (0..b.outer * b.inner)
                    .map(|i| {
                        let (c, o) = (i % b.inner, i / b.inner);
                        let at = |r: usize| xn.as_slice()[(o * b.size + r) * b.inner + c];
                        let m = (1..b.size).fold(at(0), |m, r| crate::elem::maximum(m, at(r)));
                        if shift && !m.is_finite() { 0.0 } else { m }
                    })
                    .collect();
                let want = if shift {
                    max_shift(&xn, d, nb)
                } else {
                    amax(&xn, d, nb)
                };
                let same = got
                    .iter()
                    .zip(want.as_slice())
                    .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
                assert!(
                    same && got.len() == want.numel(),
                    "max shift {shift} nb {nb}: {got:?} vs {want}"
                );
                assert!(
                    got.iter().any(|m| m.is_nan()) != shift,
                    "the NaN shows unless shifted"
                );
            }
        }
    }

    #[test]
    fn stack_is_cat_of_unsqueezed_tensors_at_every_dim() {
        // How `Tensor::stack` runs on a CUDA device.
        let ts = [ramp(&[2, 3]), ramp(&[2, 3]) * 2.0, ramp(&[2, 3]) - 1.0];
        for d in -3..=2isize {
            let parts: Vec<Tensor<f64>> = ts
                .iter()
                .map(|t| super::super::unsqueeze(t, d, 0))
                .collect();
            let refs: Vec<&Tensor<f64>> = parts.iter().collect();
            let want = Tensor::stack(&ts, d);
            let got = cat(&refs, d, 0);
            assert_eq!(got.shape(), want.shape(), "dim {d}");
            assert_eq!(got.to_vec(), want.to_vec(), "dim {d}");
        }
    }

    #[test]
    fn indices_grouped_by_target_keep_their_order() {
        let idx = [3, 0, 3, 1, 3, 0];
        let (starts, ks) = by_target(&idx, 5);
        assert_eq!(starts, vec![0, 2, 3, 3, 6, 6]);
        assert_eq!(ks, vec![1, 5, 3, 0, 2, 4]);
        assert_eq!(by_target(&[], 2), (vec![0, 0, 0], vec![]));
    }
}
