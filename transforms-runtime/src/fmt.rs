//! `Debug` and `Display` for [`Tensor`]: `Tensor(shape=[2, 2], [[1.0, 2.0], [3.0, 4.0]])`.

use std::fmt;

use crate::float::Float;
use crate::tensor::Tensor;

/// Dims longer than this are elided to their first and last `EDGE` entries
/// when the tensor holds more than `MAX_FULL` elements.
const MAX_FULL: usize = 1000;
const EDGE: usize = 3;

fn write_nested<T: Float>(
    f: &mut fmt::Formatter<'_>,
    data: &[T],
    shape: &[usize],
    elide: bool,
) -> fmt::Result {
    let Some((&n, rest)) = shape.split_first() else {
        return write!(f, "{:?}", data[0]);
    };
    let inner: usize = rest.iter().product();
    write!(f, "[")?;
    let short = elide && n > 2 * EDGE;
    for i in 0..n {
        if short && i == EDGE {
            write!(f, ", ...")?;
        }
        if short && (EDGE..n - EDGE).contains(&i) {
            continue;
        }
        if i > 0 {
            write!(f, ", ")?;
        }
        write_nested(f, &data[i * inner..(i + 1) * inner], rest, elide)?;
    }
    write!(f, "]")
}

impl<T: Float> fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor(shape={:?}, ", self.shape())?;
        if self.device() != crate::Device::Cpu {
            // The elements stay on the device; printing them needs a copy.
            write!(f, "device={})", self.device())
        } else if self.numel() == 0 {
            write!(f, "[])")
        } else {
            write_nested(f, self.as_slice(), self.shape(), self.numel() > MAX_FULL)?;
            write!(f, ")")
        }
    }
}

impl<T: Float> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
