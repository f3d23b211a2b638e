//! Dim-manipulating [`Tensor`] methods: `movedim`, `select`, `unbind`, `stack`.

use crate::float::Float;
use crate::ops;
use crate::shape::{fail, norm_dim};
use crate::tensor::Tensor;

impl<T: Float> Tensor<T> {
    /// Moves dim `src` to position `dst` (torch.movedim).
    pub fn movedim(&self, src: isize, dst: isize) -> Tensor<T> {
        ops::movedim(self, src, dst, 0)
    }

    /// The slice at `index` along `dim`, with that dim removed.
    ///
    /// # Panics
    /// If `dim` or `index` is out of range.
    pub fn select(&self, dim: isize, index: usize) -> Tensor<T> {
        let shape = self.shape();
        let d = norm_dim("select", dim, shape.len(), &[shape]);
        if index >= shape[d] {
            fail!(
                "select",
                [shape],
                "index {index} is out of range for dim {d} of size {}",
                shape[d]
            );
        }
        let inner: usize = shape[d + 1..].iter().product();
        #[cfg(feature = "cuda")]
        if self.device() != crate::Device::Cpu {
            let mut strides = transforms_kernels::cpu::contiguous_strides(shape);
            let mut out_shape = shape.to_vec();
            strides.remove(d);
            out_shape.remove(d);
            return crate::cuda::ops::copy_strided(
                "select",
                self,
                out_shape,
                &strides,
                index * inner,
            );
        }
        let block = shape[d] * inner;
        let data: Vec<T> = self
            .as_slice()
            .chunks_exact(block.max(1))
            .flat_map(|c| &c[index * inner..(index + 1) * inner])
            .copied()
            .collect();
        let mut out_shape = shape.to_vec();
        out_shape.remove(d);
        Tensor::from_parts(out_shape, data)
    }

    /// Splits along `dim` into the slices `select(dim, i)` for every `i`.
    pub fn unbind(&self, dim: isize) -> Vec<Tensor<T>> {
        let d = norm_dim("unbind", dim, self.ndim(), &[self.shape()]);
        (0..self.shape()[d])
            .map(|i| self.select(d as isize, i))
            .collect()
    }

    /// Stacks equally shaped tensors along a new dim `dim` (torch.stack;
    /// negative `dim` counts from `ndim + 1`).
    ///
    /// # Panics
    /// If `ts` is empty, the shapes differ, or `dim` is out of range.
    pub fn stack(ts: &[Tensor<T>], dim: isize) -> Tensor<T> {
        let Some(first) = ts.first() else {
            panic!("transforms: stack: expected at least one tensor, got none");
        };
        let shape = first.shape();
        if let Some(bad) = ts.iter().find(|t| t.shape() != shape) {
            fail!(
                "stack",
                [shape, bad.shape()],
                "all tensors must have the same shape"
            );
        }
        let d = norm_dim("stack", dim, shape.len() + 1, &[shape]);
        #[cfg(feature = "cuda")]
        {
            // On a CUDA device: each tensor with a new dim of size 1 at `d`,
            // concatenated along it.
            let all: Vec<&Tensor<T>> = ts.iter().collect();
            if crate::device::cuda_ordinal("stack", &all).is_some() {
                let parts: Vec<Tensor<T>> = ts
                    .iter()
                    .map(|t| crate::ops::unsqueeze(t, d as isize, 0))
                    .collect();
                let refs: Vec<&Tensor<T>> = parts.iter().collect();
                return crate::ops::cat(&refs, d as isize, 0);
            }
        }
        let inner: usize = shape[d..].iter().product();
        let outer: usize = shape[..d].iter().product();
        let mut data = Vec::with_capacity(inner * outer * ts.len());
        for o in 0..outer {
            for t in ts {
                data.extend_from_slice(&t.as_slice()[o * inner..(o + 1) * inner]);
            }
        }
        let mut out_shape = shape.to_vec();
        out_shape.insert(d, ts.len());
        Tensor::from_parts(out_shape, data)
    }
}
