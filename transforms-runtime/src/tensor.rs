//! The [`Tensor`] type: constructors, accessors and comparisons.

use ndarray::{ArcArray, ArrayD, ArrayViewD, Dimension, IxDyn};

use crate::error::Error;
use crate::float::Float;
use crate::shape::fail;

/// A dense, row-major n-dimensional array of `f32` (default) or `f64`.
///
/// The data is always kept contiguous in standard (C) layout, so every op can
/// work on plain slices. The buffer is reference-counted and copied on write:
/// `clone` and the reshaping ops (reshape, unsqueeze, flatten, ...) share it.
///
/// With the `cuda` feature a tensor may live on a CUDA device instead
/// ([`device`](Tensor::device), [`to_device`](Tensor::to_device)); its
/// elements are then only readable after moving it back to
/// [`Device::Cpu`](crate::Device::Cpu).
#[derive(Clone)]
pub struct Tensor<T: Float = f32> {
    /// The elements (CPU tensors); an empty placeholder for CUDA tensors.
    pub(crate) data: ArcArray<T, IxDyn>,
    /// The device buffer and shape of a CUDA tensor (`None` on the CPU).
    #[cfg(feature = "cuda")]
    pub(crate) cuda: Option<crate::cuda::CudaData<T>>,
}

impl<T: Float> Tensor<T> {
    /// A CPU tensor of a standard-layout array (internal).
    #[inline]
    pub(crate) fn from_array(data: ArcArray<T, IxDyn>) -> Self {
        Tensor {
            data,
            #[cfg(feature = "cuda")]
            cuda: None,
        }
    }

    /// Panics unless the tensor is on the CPU: the accessors of the elements
    /// (`op` names the one called).
    #[inline(always)]
    #[track_caller]
    fn host_only(&self, op: &str) {
        #[cfg(feature = "cuda")]
        if self.cuda.is_some() {
            crate::device::unsupported(op, self.device(), &[self.shape()]);
        }
        let _ = op;
    }

    /// Builds a tensor from a shape and a contiguous buffer (internal: the
    /// length must already be right).
    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<T>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let data =
            ArcArray::from_shape_vec(IxDyn(&shape), data).expect("shape matches data length");
        Self::from_array(data)
    }

    /// The same buffer under a new shape with the same element count
    /// (internal: no copy).
    pub(crate) fn reshaped(&self, shape: &[usize]) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), self.numel());
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda {
            return c.reshaped(shape).into_tensor();
        }
        let data = self
            .data
            .clone()
            .into_shape_with_order(IxDyn(shape))
            .expect("standard layout reshapes in place");
        Self::from_array(data)
    }

    /// [`reshaped`](Self::reshaped), consuming `self` (so that the buffer
    /// stays uniquely owned for in-place updates).
    pub(crate) fn into_reshaped(self, shape: &[usize]) -> Self {
        if self.shape() == shape {
            return self;
        }
        #[cfg(feature = "cuda")]
        if self.cuda.is_some() {
            return self.reshaped(shape);
        }
        let data = self
            .data
            .into_shape_with_order(IxDyn(shape))
            .expect("standard layout reshapes in place");
        Self::from_array(data)
    }

    /// Builds a tensor of `shape` from its row-major elements.
    ///
    /// # Errors
    /// [`Error::Shape`] if `data.len()` is not the product of `shape`.
    pub fn from_shape_vec(shape: &[usize], data: Vec<T>) -> Result<Self, Error> {
        let numel: usize = shape.iter().product();
        if numel != data.len() {
            return Err(Error::Shape {
                op: "from_shape_vec",
                message: format!(
                    "shape {shape:?} needs {numel} elements but {} were given",
                    data.len()
                ),
            });
        }
        Ok(Self::from_parts(shape.to_vec(), data))
    }

    /// A tensor of `shape` filled with `v`.
    pub fn full(shape: &[usize], v: T) -> Self {
        Self::from_parts(shape.to_vec(), vec![v; shape.iter().product()])
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// The `n x n` identity matrix.
    pub fn eye(n: usize) -> Self {
        let mut data = vec![T::zero(); n * n];
        for i in 0..n {
            data[i * n + i] = T::one();
        }
        Self::from_parts(vec![n, n], data)
    }

    /// A 0-dim tensor holding `v`.
    pub fn scalar(v: T) -> Self {
        Self::from_parts(vec![], vec![v])
    }

    /// The single element of a 0-dim (or one-element) tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    pub fn item(&self) -> T {
        self.host_only("item");
        if self.numel() != 1 {
            fail!(
                "item",
                [self.shape()],
                "the tensor must hold exactly one element"
            );
        }
        self.as_slice()[0]
    }

    /// The shape.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda {
            return c.shape();
        }
        self.data.shape()
    }

    /// The number of dims.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    #[inline]
    pub fn numel(&self) -> usize {
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda {
            return c.shape().iter().product();
        }
        self.data.len()
    }

    /// The elements in row-major order, without copying.
    ///
    /// # Panics
    /// If the tensor is on a CUDA device (move it with
    /// [`to_device`](Tensor::to_device) first); so do the other accessors of
    /// the elements.
    #[inline]
    #[track_caller]
    pub fn as_slice(&self) -> &[T] {
        self.host_only("as_slice");
        self.data
            .as_slice()
            .expect("tensors are kept in standard layout")
    }

    /// The elements in row-major order.
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }

    /// Consumes the tensor, returning its row-major elements.
    pub fn into_vec(self) -> Vec<T> {
        self.host_only("into_vec");
        let (v, offset) = self.data.into_owned().into_raw_vec_and_offset();
        debug_assert!(offset.unwrap_or(0) == 0);
        v
    }

    /// Mutable row-major elements (internal: for in-place ops on owned tensors).
    #[inline]
    #[track_caller]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        self.host_only("as_mut_slice");
        self.data
            .as_slice_mut()
            .expect("tensors are kept in standard layout")
    }

    /// A copy of the data as an `ndarray` array.
    pub fn to_ndarray(&self) -> ArrayD<T> {
        self.host_only("to_ndarray");
        self.data.to_owned()
    }

    /// A borrowed `ndarray` view of the data.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        self.host_only("view");
        self.data.view()
    }

    /// Whether both tensors have the same shape and
    /// `|a - b| <= atol + rtol * |b|` holds elementwise (NaN never matches).
    pub fn allclose(&self, other: &Tensor<T>, rtol: f64, atol: f64) -> bool {
        self.host_only("allclose");
        other.host_only("allclose");
        self.shape() == other.shape()
            && self
                .as_slice()
                .iter()
                .zip(other.as_slice())
                .all(|(&a, &b)| {
                    let (a, b) = (a.to_f64(), b.to_f64());
                    (a - b).abs() <= atol + rtol * b.abs() || (a == b)
                })
    }

    /// The largest elementwise `|a - b|` (0 for empty tensors, NaN if any
    /// difference is NaN).
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn max_abs_diff(&self, other: &Tensor<T>) -> f64 {
        self.host_only("max_abs_diff");
        other.host_only("max_abs_diff");
        if self.shape() != other.shape() {
            fail!(
                "max_abs_diff",
                [self.shape(), other.shape()],
                "the shapes differ"
            );
        }
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .fold(0.0, |m, (&a, &b)| {
                let d = (a.to_f64() - b.to_f64()).abs();
                if d.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(d)
                }
            })
    }
}

impl<T: Float, D: Dimension> From<ndarray::Array<T, D>> for Tensor<T> {
    fn from(a: ndarray::Array<T, D>) -> Self {
        let a = a.into_dyn();
        let data = if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned()
        };
        Self::from_array(data.into_shared())
    }
}
