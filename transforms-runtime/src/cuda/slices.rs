//! The ops along one dim on a CUDA device (`kernels/cuda/slices.cu`):
//! narrowing, zero padding, concatenation, index selection and its
//! scatter-add. The CPU op checks the shapes and computes the blocks
//! `[outer, size, inner]` around the dim; these take them from there, so
//! errors read the same on every device. Indices are checked on the host
//! before they are uploaded.

use cudarc::driver::{CudaSlice, PushKernelArg};
use transforms_kernels::cuda::SLICES;

use super::kernels::config;
use super::ops::{buf, copy_strided};
use super::{Backend, backend_of, cuda_fail};
use crate::float::Float;
use crate::ops::slices::Blocks;
use crate::tensor::Tensor;

fn ordinal<T: Float>(x: &Tensor<T>) -> usize {
    x.cuda
        .as_ref()
        .expect("checked to be a CUDA tensor")
        .ordinal()
}

/// Positions `start..start + len` of the middle dim of `x` (blocks `b`),
/// giving `shape`.
pub(crate) fn narrow<T: Float>(
    op: &str,
    x: &Tensor<T>,
    b: Blocks,
    start: usize,
    len: usize,
    shape: Vec<usize>,
) -> Tensor<T> {
    let strides = [b.size * b.inner, b.inner, 1];
    copy_strided(
        op,
        x,
        vec![b.outer, len, b.inner],
        &strides,
        start * b.inner,
    )
    .into_reshaped(&shape)
}

/// Zeros of `shape` (blocks `b`) with `x` at positions `start..` of the
/// middle dim.
pub(crate) fn pad<T: Float>(
    op: &str,
    x: &Tensor<T>,
    b: Blocks,
    start: usize,
    shape: Vec<usize>,
) -> Tensor<T> {
    cat(op, &[(x, start)], b, shape)
}

/// Zeros of `shape` (blocks `b`) with each part `(x, start)` placed at
/// positions `start..` of the middle dim (each part has the blocks of the
/// result but its own middle size).
pub(crate) fn cat<T: Float>(
    op: &str,
    parts: &[(&Tensor<T>, usize)],
    b: Blocks,
    shape: Vec<usize>,
) -> Tensor<T> {
    let be = backend_of(op, parts.first().map_or(0, |(x, _)| ordinal(x)));
    let mut y = be.zeros::<T>(op, b.outer * b.size * b.inner);
    for &(x, start) in parts {
        let len = x.numel() / (b.outer * b.inner).max(1);
        assert!(
            start + len <= b.size && x.numel() == b.outer * len * b.inner,
            "transforms: {op}: a part does not fit the result's blocks"
        );
        be.launch_place(op, buf(x), &mut y, b, start, len);
    }
    be.tensor(shape, y)
}

/// Entries `idx` of the middle dim of `x` (blocks `b`), giving `shape`.
pub(crate) fn index_select<T: Float>(
    op: &str,
    x: &Tensor<T>,
    b: Blocks,
    idx: &[usize],
    shape: Vec<usize>,
) -> Tensor<T> {
    assert!(
        idx.iter().all(|&i| i < b.size),
        "transforms: {op}: index out of range (checked before)"
    );
    let be = backend_of(op, ordinal(x));
    let n = b.outer * idx.len() * b.inner;
    let mut y = be.zeros::<T>(op, n);
    if n > 0 {
        let f = be.function(op, SLICES, &format!("gather_{}", T::SUFFIX));
        let args = [n, idx.len(), b.size, b.inner].map(|v| v as u64);
        let idx = be.upload_indices(op, idx);
        let mut l = be.stream.launch_builder(&f);
        for a in &args {
            l.arg(a);
        }
        l.arg(&idx).arg(buf(x)).arg(&mut y);
        // SAFETY: gather_<ty> takes (n, nidx, size, inner, idx, x, y); every
        // index is below `size` (asserted), so reads stay inside x's
        // [outer, size, inner] and writes inside y's n elements.
        unsafe { l.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
    }
    be.tensor(shape, y)
}

/// Zeros of `shape` (blocks `b`) into which slice `k` of `x`'s middle dim
/// is added at `idx[k]`, repeated indices in increasing `k` (as on the CPU).
pub(crate) fn index_add<T: Float>(
    op: &str,
    x: &Tensor<T>,
    b: Blocks,
    idx: &[usize],
    shape: Vec<usize>,
) -> Tensor<T> {
    let be = backend_of(op, ordinal(x));
    let n = b.outer * b.size * b.inner;
    let mut y = be.zeros::<T>(op, n);
    if n > 0 {
        let (starts, ks) = crate::ops::slices::by_target(idx, b.size);
        let f = be.function(op, SLICES, &format!("index_add_{}", T::SUFFIX));
        let starts = be.upload_indices(op, &starts);
        let ks = be.upload_indices(op, &ks);
        let args = [n, b.size, b.inner, idx.len()].map(|v| v as u64);
        let mut l = be.stream.launch_builder(&f);
        for a in &args {
            l.arg(a);
        }
        l.arg(&starts).arg(&ks).arg(buf(x)).arg(&mut y);
        // SAFETY: index_add_<ty> takes (n, size, inner, nidx, starts, ks, x,
        // y); `starts` has size + 1 entries ending at nidx and every `ks`
        // entry is below nidx (by_target), so reads stay inside x's
        // [outer, nidx, inner] and writes inside y's n elements.
        unsafe { l.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
    }
    be.tensor(shape, y)
}

/// The max of `x` (blocks `b`, `size >= 1`) over its middle dim, giving
/// `shape`; with `shift`, non-finite maxima become 0.
pub(crate) fn max_along<T: Float>(
    op: &str,
    x: &Tensor<T>,
    b: Blocks,
    shift: bool,
    shape: Vec<usize>,
) -> Tensor<T> {
    assert!(
        b.size >= 1,
        "transforms: {op}: the dim is empty (checked before)"
    );
    let be = backend_of(op, ordinal(x));
    let n = b.outer * b.inner;
    let mut y = be.zeros::<T>(op, n);
    if n > 0 {
        let f = be.function(op, SLICES, &format!("max_{}", T::SUFFIX));
        let args = [n, b.size, b.inner].map(|v| v as u64);
        let shift = i32::from(shift);
        let mut l = be.stream.launch_builder(&f);
        for a in &args {
            l.arg(a);
        }
        l.arg(&shift).arg(buf(x)).arg(&mut y);
        // SAFETY: max_<ty> takes (n, size, inner, shift, x, y); x holds
        // [outer, size, inner] and y its n = outer * inner maxima.
        unsafe { l.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
    }
    be.tensor(shape, y)
}

impl Backend {
    /// `place(n, len, size, inner, start, x, y)`: `x` ([outer, len, inner])
    /// into `y` ([outer, size, inner]) at `start..start + len`.
    fn launch_place<T: Float>(
        &self,
        op: &str,
        x: &CudaSlice<T>,
        y: &mut CudaSlice<T>,
        b: Blocks,
        start: usize,
        len: usize,
    ) {
        let n = b.outer * len * b.inner;
        if n == 0 {
            return;
        }
        let f = self.function(op, SLICES, &format!("place_{}", T::SUFFIX));
        let args = [n, len, b.size, b.inner, start].map(|v| v as u64);
        let mut l = self.stream.launch_builder(&f);
        for a in &args {
            l.arg(a);
        }
        l.arg(x).arg(y);
        // SAFETY: place_<ty> takes (n, len, size, inner, start, x, y); the
        // caller checked start + len <= size and that x holds n elements,
        // so writes stay inside y's [outer, size, inner].
        unsafe { l.launch(config(n)) }.unwrap_or_else(|e| cuda_fail(op, e));
    }
}
