//! Stacks of per-iteration values, as loops (`scan`) build and read them: a
//! stack is a tensor `[n] ++ slice shape`.

use ndarray::Axis;

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
    Tensor {
        data: stack.data.clone().index_axis_move(Axis(0), it),
    }
}

/// The per-iteration values stacked along a new leading dim (shape `[0]`
/// for no iterations: such a stack is never read).
pub fn stack_all<T: Float>(slices: &[Tensor<T>]) -> Tensor<T> {
    if slices.is_empty() {
        return Tensor::from_parts(vec![0], Vec::new());
    }
    Tensor::stack(slices, 0)
}
