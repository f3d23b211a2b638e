//! Stacks of per-iteration values, as loops (`scan`) build and read them: a
//! stack is a tensor `[n] ++ slice shape`.

use ndarray::{Axis, IxDyn};

use crate::float::Float;
use crate::shape::{broadcast_left, fail};
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
    Tensor {
        data: stack.data.clone().index_axis_move(Axis(0), it),
    }
}

/// The per-iteration values stacked along a new leading dim (shape `[0]`
/// for no iterations: such a stack is never read).
///
/// Under `vmap` a loop's carry may start unbatched (a batch dim of size 1,
/// which broadcasts) and become batched in the body, so its slices can
/// differ in size-1 dims: they are broadcast to their common shape.
pub fn stack_all<T: Float>(slices: &[Tensor<T>]) -> Tensor<T> {
    let Some(first) = slices.first() else {
        return Tensor::from_parts(vec![0], Vec::new());
    };
    if slices.iter().all(|s| s.shape() == first.shape()) {
        return Tensor::stack(slices, 0);
    }
    let mut shape = first.shape().to_vec();
    for s in slices {
        shape = broadcast_left(&shape, s.shape()).unwrap_or_else(|| {
            fail!(
                "scan",
                [first.shape(), s.shape()],
                "the per-iteration values of a loop do not broadcast to one shape"
            )
        });
    }
    let full: Vec<Tensor<T>> = slices
        .iter()
        .map(|s| Tensor {
            data: s
                .data
                .broadcast(IxDyn(&shape))
                .expect("broadcast_left checked the shapes")
                .to_owned()
                .into_shared(),
        })
        .collect();
    Tensor::stack(&full, 0)
}
