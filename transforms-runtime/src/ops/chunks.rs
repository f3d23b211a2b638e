//! Helpers for `chunk_size`: the generated code of a chunked `vmap` or
//! `jacrev` runs its body on `k` slices (or basis rows) at a time and
//! concatenates the pieces. None of these take `nb`: they run outside any
//! batching, on whole tensors.

use crate::float::Float;
use crate::shape::{fail, norm_dim};
use crate::tensor::Tensor;

/// The common size of the mapped dims: `inputs` are `(tensor, in_dim)`
/// pairs (negative dims count from the end).
///
/// # Panics
/// If a dim is out of range or the sizes differ (naming both shapes).
pub fn chunk_batch_len<T: Float>(inputs: &[(&Tensor<T>, isize)]) -> usize {
    let mut first: Option<(usize, &Tensor<T>, usize)> = None;
    for &(x, dim) in inputs {
        let d = norm_dim("vmap", dim, x.ndim(), &[x.shape()]);
        let n = x.shape()[d];
        match first {
            None => first = Some((n, x, d)),
            Some((m, y, e)) if m != n => fail!(
                "vmap",
                [y.shape(), x.shape()],
                "mapped inputs have different sizes along their in_dims ({m} along dim {e} and {n} along dim {d})"
            ),
            Some(_) => {}
        }
    }
    first.map_or(0, |(n, _, _)| n)
}

/// The slice `start..start + len` of `x` along `dim` (a copy; the dim is
/// kept, with size `len`).
///
/// # Panics
/// If `dim` is out of range or the slice runs past the end.
pub fn chunk_rows<T: Float>(x: &Tensor<T>, dim: isize, start: usize, len: usize) -> Tensor<T> {
    let shape = x.shape();
    let d = norm_dim("chunk_rows", dim, shape.len(), &[shape]);
    if start + len > shape[d] {
        fail!(
            "chunk_rows",
            [shape],
            "rows {start}..{} are out of range for dim {d} of size {}",
            start + len,
            shape[d]
        );
    }
    crate::device::on_cuda!("chunk_rows", [x], |_ord| super::narrow(
        x,
        d as isize,
        start as isize,
        len,
        0
    ));
    let inner: usize = shape[d + 1..].iter().product();
    let outer: usize = shape[..d].iter().product();
    let block = shape[d] * inner;
    let mut data = Vec::with_capacity(outer * len * inner);
    for o in 0..outer {
        let base = o * block + start * inner;
        data.extend_from_slice(&x.as_slice()[base..base + len * inner]);
    }
    let mut out = shape.to_vec();
    out[d] = len;
    Tensor::from_parts(out, data)
}

/// Concatenates `parts` along `dim` (torch.cat): every other dim must agree.
///
/// # Panics
/// If `parts` is empty, the ranks or the other dims differ, or `dim` is out
/// of range.
pub fn concat_chunks<T: Float>(parts: &[Tensor<T>], dim: isize) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    let on_cuda = {
        let all: Vec<&Tensor<T>> = parts.iter().collect();
        crate::device::cuda_ordinal("concat_chunks", &all).is_some()
    };
    let Some(first) = parts.first() else {
        panic!("transforms: concat_chunks: expected at least one tensor, got none");
    };
    if parts.len() == 1 {
        return first.clone();
    }
    let shape = first.shape();
    let d = norm_dim("concat_chunks", dim, shape.len(), &[shape]);
    for p in parts {
        let ps = p.shape();
        let same_rest = ps.len() == shape.len()
            && ps
                .iter()
                .zip(shape)
                .enumerate()
                .all(|(i, (a, b))| i == d || a == b);
        if !same_rest {
            fail!(
                "concat_chunks",
                [shape, ps],
                "all dims but dim {d} must agree"
            );
        }
    }
    #[cfg(feature = "cuda")]
    if on_cuda {
        let refs: Vec<&Tensor<T>> = parts.iter().collect();
        return super::cat(&refs, d as isize, 0);
    }
    let inner: usize = shape[d + 1..].iter().product();
    let outer: usize = shape[..d].iter().product();
    let total: usize = parts.iter().map(|p| p.shape()[d]).sum();
    let mut data = Vec::with_capacity(outer * total * inner);
    for o in 0..outer {
        for p in parts {
            let block = p.shape()[d] * inner;
            data.extend_from_slice(&p.as_slice()[o * block..(o + 1) * block]);
        }
    }
    let mut out = shape.to_vec();
    out[d] = total;
    Tensor::from_parts(out, data)
}

/// Rows `start..start + len` of the identity basis of `like`'s shape:
/// shape `[len] ++ like.shape`, row `i` is one at flat index `start + i`.
///
/// # Panics
/// If the rows run past `like`'s element count.
pub fn basis_rows<T: Float>(like: &Tensor<T>, start: usize, len: usize) -> Tensor<T> {
    let n = like.numel();
    if start + len > n {
        fail!(
            "basis_rows",
            [like.shape()],
            "rows {start}..{} are out of range for {n} elements",
            start + len
        );
    }
    let mut data = vec![T::zero(); len * n];
    for i in 0..len {
        data[i * n + start + i] = T::one();
    }
    let shape = [&[len][..], like.shape()].concat();
    super::constants::on_device("basis_rows", Tensor::from_parts(shape, data), like)
}

/// The total element count of `ts` (the mode rule of `jacobian`).
pub fn total_numel<T: Float>(ts: &[&Tensor<T>]) -> usize {
    ts.iter().map(|t| t.numel()).sum()
}
