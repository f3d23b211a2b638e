//! Stacks of per-iteration values, as loops (`scan`) build and read them: a
//! stack is a tensor `[n] ++ slice shape`.

use ndarray::IxDyn;

use crate::float::Float;
use crate::shape::fail;
use crate::tensor::Tensor;

/// Slice `it` of a stack, sharing its storage (no copy).
pub fn stack_index<T: Float>(stack: &Tensor<T>, it: usize) -> Tensor<T> {
    let shape = stack.shape();
    if shape.is_empty() || it >= shape[0] {
        fail!(
            "scan",
            [shape],
            "iteration {it} is out of range for a stack of {} slices",
            shape.first().copied().unwrap_or(0)
        );
    }
    crate::device::on_cuda!("scan", [stack], |_ord| {
        // A copy of the slice on a CUDA device.
        super::narrow(stack, 0, it as isize, 1, 0).into_reshaped(&shape[1..])
    });
    stack.index0(it)
}

/// The shape every slice broadcasts to (numpy rules), if there is one.
fn common_shape(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let n = shapes.iter().map(|s| s.len()).max()?;
    let mut out = vec![1; n];
    for s in shapes {
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[n - s.len() + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

fn expanded<T: Float>(t: &Tensor<T>, shape: &[usize]) -> Tensor<T> {
    if t.shape() == shape {
        return t.clone();
    }
    #[cfg(feature = "cuda")]
    if t.device() != crate::Device::Cpu {
        let Some(full) = common_shape(&[t.shape(), shape]).filter(|c| c == shape) else {
            fail!("scan", [t.shape(), shape], "cannot broadcast a slice");
        };
        let pad = full.len() - t.shape().len();
        let strides: Vec<usize> = std::iter::repeat_n(0, pad)
            .chain(crate::shape::broadcast_strides(t.shape()))
            .collect();
        return super::broadcast::gather("scan", t, full, &strides);
    }
    match t.view().broadcast(IxDyn(shape)) {
        Some(view) => Tensor::from(view.to_owned()),
        None => fail!("scan", [t.shape(), shape], "cannot broadcast a slice"),
    }
}

/// The per-iteration values stacked along a new leading dim (shape `[0]`
/// for no iterations: such a stack is never read). Slices may differ in
/// shape only where a loop makes that safe, because a stack is read back
/// slice by slice by a loop with the same trip counts:
/// - a value that starts with a size-1 batch dim and then grows (a carry
///   that becomes batched) is broadcast to the common shape;
/// - stacks of an inner loop (empty, or of a trip count that varies between
///   outer iterations) are zero-padded along their leading dim; padding is
///   never read.
pub fn stack_all<T: Float>(slices: &[Tensor<T>]) -> Tensor<T> {
    #[cfg(feature = "cuda")]
    let on_cuda = {
        let all: Vec<&Tensor<T>> = slices.iter().collect();
        crate::device::cuda_ordinal("scan", &all).is_some()
    };
    let Some(first) = slices.first() else {
        return Tensor::from_parts(vec![0], Vec::new());
    };
    if slices.iter().all(|s| s.shape() == first.shape()) {
        return Tensor::stack(slices, 0);
    }
    let empty = |s: &Tensor<T>| s.shape() == [0];
    let shapes: Vec<&[usize]> = slices
        .iter()
        .filter(|s| !empty(s))
        .map(|s| s.shape())
        .collect();
    let Some(reference) = shapes.first().copied() else {
        return Tensor::stack(slices, 0);
    };
    if let Some(common) = common_shape(&shapes) {
        let full: Vec<Tensor<T>> = slices
            .iter()
            .map(|s| {
                if empty(s) {
                    super::constants::zeros_on(&common, first)
                } else {
                    expanded(s, &common)
                }
            })
            .collect();
        return Tensor::stack(&full, 0);
    }
    let rest = &reference[1..];
    if let Some(bad) = shapes.iter().find(|s| s.is_empty() || &s[1..] != rest) {
        fail!(
            "scan",
            [reference, *bad],
            "a value in a loop changes shape between iterations"
        );
    }
    let longest = shapes.iter().map(|s| s[0]).max().unwrap_or(0);
    let inner: usize = rest.iter().product();
    let mut target = vec![longest];
    target.extend_from_slice(rest);
    #[cfg(feature = "cuda")]
    if on_cuda {
        // Each slice zero-padded along its leading dim on the device.
        let blocks = super::slices::Blocks {
            outer: 1,
            size: longest,
            inner,
        };
        let full: Vec<Tensor<T>> = slices
            .iter()
            .map(|s| {
                if empty(s) {
                    super::constants::zeros_on(&target, first)
                } else {
                    crate::cuda::slices::pad("scan", s, blocks, 0, target.clone())
                }
            })
            .collect();
        return Tensor::stack(&full, 0);
    }
    let full: Vec<Tensor<T>> = slices
        .iter()
        .map(|s| {
            let mut data = if empty(s) {
                Vec::new()
            } else {
                s.as_slice().to_vec()
            };
            data.resize(longest * inner, T::zero());
            Tensor::from_parts(target.clone(), data)
        })
        .collect();
    Tensor::stack(&full, 0)
}

/// Checks that loop carry `k` keeps its shape, up to size-1 dims (batch
/// dims of values that are the same for every batch element).
pub fn check_carry<T: Float>(old: &Tensor<T>, new: &Tensor<T>, k: usize) {
    crate::device::same_device!("scan", [old, new]);
    let (o, n) = (old.shape(), new.shape());
    let same = o.len() == n.len() && o.iter().zip(n).all(|(a, b)| a == b || *a == 1 || *b == 1);
    if !same {
        fail!(
            "scan",
            [o, n],
            "loop value {k} changes shape from one iteration to the next; a loop must keep the shape of every tensor it assigns"
        );
    }
}
