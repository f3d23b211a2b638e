//! The [`Tensor`] type: constructors, accessors and comparisons.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};

use crate::error::Error;
use crate::float::Float;
use crate::lines::Lines;
use crate::shape::{Shape, fail};

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
    /// The buffer holding the elements (CPU tensors; empty for CUDA
    /// tensors), possibly shared with other tensors.
    buf: Storage<T>,
    /// Where this tensor's elements start in `buf` (a slice of a loop's
    /// stack starts inside it).
    offset: usize,
    /// Inline for the ranks generated code makes (no allocation).
    shape: Shape,
    /// The device buffer and shape of a CUDA tensor (`None` on the CPU).
    #[cfg(feature = "cuda")]
    pub(crate) cuda: Option<crate::cuda::CudaData<T>>,
}

/// A CPU buffer: a kernel's `Vec` behind a reference count (two
/// allocations, no copy), or one allocation holding the count and the
/// elements on whole cache lines ([`Lines`]), which results written in
/// place use (an allocation is a good part of a microsecond-sized
/// Jacobian).
#[derive(Clone)]
enum Storage<T> {
    Vec(Arc<Vec<T>>),
    Lines(Lines<T>),
}

impl<T: Copy> Storage<T> {
    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        match self {
            Storage::Vec(v) => v,
            Storage::Lines(l) => l.as_slice(),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// The elements, if no other tensor shares them.
    #[inline]
    fn get_mut(&mut self) -> Option<&mut [T]> {
        match self {
            Storage::Vec(v) => Arc::get_mut(v).map(|v| v.as_mut_slice()),
            Storage::Lines(l) => l.get_mut(),
        }
    }
}

/// Panics unless `shape` has as many elements as `old` (a reshape keeps
/// them all: a shorter view would silently drop some).
#[inline]
fn same_numel(shape: &[usize], old: &[usize]) {
    assert_eq!(
        shape.iter().product::<usize>(),
        old.iter().product::<usize>(),
        "transforms: internal error: a reshape from {old:?} to {shape:?} changes the element count"
    );
}

impl<T: Float> Tensor<T> {
    /// A CPU tensor of `shape` over `buf[offset..]` (internal). Inlined:
    /// called, its result was copied out in vector loads of its scalar
    /// stores, each load stalling until they landed.
    #[inline(always)]
    fn on_buffer(buf: Storage<T>, offset: usize, shape: &[usize]) -> Self {
        assert!(
            offset + shape.iter().product::<usize>() <= buf.len(),
            "transforms: internal error: a view of shape {shape:?} past its buffer"
        );
        Tensor {
            buf,
            offset,
            shape: Shape::from_slice(shape),
            #[cfg(feature = "cuda")]
            cuda: None,
        }
    }

    /// A CUDA tensor: no host buffer (every accessor and op checks the
    /// device first).
    #[cfg(feature = "cuda")]
    pub(crate) fn on_cuda(data: crate::cuda::CudaData<T>) -> Self {
        Tensor {
            buf: Storage::Vec(Arc::new(Vec::new())),
            offset: 0,
            shape: Shape::from_slice(&[0]),
            cuda: Some(data),
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
    pub(crate) fn from_parts(shape: impl AsRef<[usize]>, data: Vec<T>) -> Self {
        let shape = shape.as_ref();
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "transforms: internal error: a result's length does not match its shape {shape:?}"
        );
        Self::on_buffer(Storage::Vec(Arc::new(data)), 0, shape)
    }

    /// A tensor of `shape` whose elements `fill` writes, in one allocation
    /// (internal).
    ///
    /// # Safety
    /// `fill` must initialise every element of the slice it is given.
    #[inline(always)]
    pub(crate) unsafe fn from_uninit(
        shape: &[usize],
        fill: impl FnOnce(&mut [std::mem::MaybeUninit<T>]),
    ) -> Self {
        // SAFETY: the caller's `fill` initialises every element.
        let buf = unsafe { Lines::new(shape.iter().product(), fill) };
        Self::on_buffer(Storage::Lines(buf), 0, shape)
    }

    /// Slice `i` along dim 0, sharing the buffer (internal: `i` in range).
    pub(crate) fn index0(&self, i: usize) -> Self {
        let inner = &self.shape()[1..];
        let size: usize = inner.iter().product();
        Self::on_buffer(self.buf.clone(), self.offset + i * size, inner)
    }

    /// Rows `r` of dim 0, sharing the buffer (internal: a CPU tensor of
    /// rank >= 1, `r` in range).
    pub(crate) fn rows0(&self, r: std::ops::Range<usize>) -> Self {
        let mut shape = self.shape().to_vec();
        let size: usize = shape[1..].iter().product();
        shape[0] = r.len();
        Self::on_buffer(self.buf.clone(), self.offset + r.start * size, &shape)
    }

    /// The same buffer under a new shape with the same element count
    /// (internal: no copy).
    pub(crate) fn reshaped(&self, shape: &[usize]) -> Self {
        same_numel(shape, self.shape());
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda {
            return c.reshaped(shape).into_tensor();
        }
        Self::on_buffer(self.buf.clone(), self.offset, shape)
    }

    /// [`reshaped`](Self::reshaped), consuming `self` (so that the buffer
    /// stays uniquely owned for in-place updates).
    pub(crate) fn into_reshaped(mut self, shape: &[usize]) -> Self {
        if self.shape() == shape {
            return self;
        }
        #[cfg(feature = "cuda")]
        if self.cuda.is_some() {
            return self.reshaped(shape);
        }
        same_numel(shape, self.shape());
        self.shape = Shape::from_slice(shape);
        self
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
        Ok(Self::from_parts(shape, data))
    }

    /// A tensor of `shape` filled with `v`.
    pub fn full(shape: &[usize], v: T) -> Self {
        Self::from_parts(shape, vec![v; shape.iter().product()])
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
        &self.shape
    }

    /// The number of dims.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    #[inline]
    pub fn numel(&self) -> usize {
        self.shape().iter().product()
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
        &self.buf.as_slice()[self.offset..self.offset + self.numel()]
    }

    /// The elements in row-major order.
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }

    /// Consumes the tensor, returning its row-major elements.
    pub fn into_vec(self) -> Vec<T> {
        self.host_only("into_vec");
        let whole = self.offset == 0 && self.numel() == self.buf.len();
        if whole {
            match self.buf {
                Storage::Vec(v) => Arc::try_unwrap(v).unwrap_or_else(|shared| shared.to_vec()),
                Storage::Lines(..) => self.as_slice().to_vec(),
            }
        } else {
            self.as_slice().to_vec()
        }
    }

    /// Mutable row-major elements (internal: for in-place ops on owned tensors).
    #[inline]
    #[track_caller]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        self.host_only("as_mut_slice");
        let n = self.numel();
        // Copy on write: a shared buffer, or one holding more than this
        // tensor, is replaced by a copy of this tensor's elements.
        if self.offset != 0 || n != self.buf.len() || self.buf.get_mut().is_none() {
            self.buf = Storage::Vec(Arc::new(self.as_slice().to_vec()));
            self.offset = 0;
        }
        self.buf.get_mut().expect("a buffer of its own")
    }

    /// The elements to overwrite in place, if this tensor is the only owner
    /// of a whole CPU buffer (no other tensor shares it, no offset, no
    /// spare elements): what an op may reuse for its result when the
    /// generated code hands it a tensor nothing reads afterwards.
    #[inline]
    pub(crate) fn unique_mut(&mut self) -> Option<&mut [T]> {
        #[cfg(feature = "cuda")]
        if self.cuda.is_some() {
            return None;
        }
        if self.offset != 0 || self.numel() != self.buf.len() {
            return None;
        }
        self.buf.get_mut()
    }

    /// A copy of the data as an `ndarray` array.
    pub fn to_ndarray(&self) -> ArrayD<T> {
        self.view().to_owned()
    }

    /// A borrowed `ndarray` view of the data.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        self.host_only("view");
        ArrayViewD::from_shape(IxDyn(self.shape()), self.as_slice())
            .expect("the shape matches the elements")
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
        let shape = a.shape().to_vec();
        let data = match a.as_slice() {
            Some(s) if a.is_standard_layout() => s.to_vec(),
            _ => a.iter().copied().collect(),
        };
        Self::from_parts(shape, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops;

    fn iota(shape: &[usize]) -> Tensor<f64> {
        let n = shape.iter().product::<usize>();
        Tensor::from_shape_vec(shape, (0..n).map(|i| i as f64).collect()).unwrap()
    }

    #[test]
    fn slices_of_a_stack_share_its_buffer_and_copy_on_write() {
        let stack = iota(&[3, 2, 2]);
        let s1 = ops::stack_index(&stack, 1);
        assert_eq!(s1.shape(), &[2, 2]);
        assert_eq!(s1.to_vec(), vec![4.0, 5.0, 6.0, 7.0]);
        assert_eq!(
            s1.view().to_owned().into_raw_vec_and_offset().0,
            s1.to_vec()
        );
        assert_eq!(s1.to_ndarray().shape(), &[2, 2]);
        assert_eq!(s1.reshaped(&[4]).to_vec(), s1.to_vec());
        // An in-place update of the slice (`tensor + scalar` by value) copies it first.
        let mut w = s1.clone();
        w = w + 10.0;
        assert_eq!(w.to_vec(), vec![14.0, 15.0, 16.0, 17.0]);
        assert_eq!(s1.to_vec(), vec![4.0, 5.0, 6.0, 7.0]);
        assert_eq!(stack.to_vec(), (0..12).map(f64::from).collect::<Vec<_>>());
        assert_eq!(s1.clone().into_vec(), vec![4.0, 5.0, 6.0, 7.0]);
        // 0-dim slices of a 1-dim stack.
        let v = iota(&[5]);
        assert_eq!(ops::stack_index(&v, 3).shape(), &[] as &[usize]);
        assert_eq!(ops::stack_index(&v, 3).item(), 3.0);
    }

    #[test]
    fn a_shared_buffer_is_copied_on_write_and_an_owned_one_is_not() {
        let a = iota(&[2, 3]);
        let mut b = a.clone();
        b = b + 1.0;
        assert_eq!(a.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(b.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let before = b.as_slice().as_ptr();
        b = b + 1.0;
        assert_eq!(
            b.as_slice().as_ptr(),
            before,
            "uniquely owned: updated in place"
        );
        // A reshape shares the buffer; updating it leaves the original alone.
        let mut r = a.reshaped(&[3, 2]);
        r = r + 100.0;
        assert_eq!(a.to_vec()[0], 0.0);
        assert_eq!(r.to_vec()[0], 100.0);
        assert_eq!(a.clone().into_vec(), a.to_vec());
    }

    #[test]
    fn shapes_beyond_the_inline_dims_and_non_standard_arrays() {
        let big = iota(&[1, 2, 1, 3, 1, 2, 1, 2, 1]);
        assert_eq!(big.shape(), &[1, 2, 1, 3, 1, 2, 1, 2, 1]);
        assert_eq!(big.reshaped(&[24]).to_vec(), big.to_vec());
        let t = ndarray::Array2::from_shape_vec((2, 3), (0..6).map(f64::from).collect())
            .unwrap()
            .reversed_axes();
        let from: Tensor<f64> = t.into();
        assert_eq!(from.shape(), &[3, 2]);
        assert_eq!(from.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn a_buffer_written_in_place_behaves_like_a_vec() {
        // SAFETY: the closure writes every element.
        let mut t = unsafe {
            Tensor::<f32>::from_uninit(&[2, 3], |d| {
                for (i, e) in d.iter_mut().enumerate() {
                    e.write(i as f32);
                }
            })
        };
        assert_eq!(t.as_slice(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        // Shared by a clone or a reshape: not writable in place, and a
        // copy on write leaves the other tensor as it was.
        let shared = t.reshaped(&[3, 2]);
        assert!(t.unique_mut().is_none());
        t.as_mut_slice()[0] = 9.0;
        assert_eq!(shared.as_slice()[0], 0.0);
        assert_eq!(t.as_slice()[0], 9.0);
        let mut u = shared.clone();
        drop(shared);
        u.unique_mut().expect("the only owner")[1] = 7.0;
        assert_eq!(u.shape(), &[3, 2]);
        assert_eq!(u.clone().into_vec(), vec![0.0, 7.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(u.index0(2).as_slice(), &[4.0, 5.0]);
    }

    #[test]
    fn buffers_written_in_place_start_on_a_cache_line() {
        fn check<T: Float>(n: usize) {
            // SAFETY: the closure writes every element.
            let t = unsafe {
                Tensor::<T>::from_uninit(&[n], |d| {
                    for (i, e) in d.iter_mut().enumerate() {
                        e.write(T::from_f64(i as f64));
                    }
                })
            };
            assert_eq!(t.as_slice().as_ptr() as usize % 64, 0, "{n} elements");
            assert_eq!(t.as_slice().len(), n);
            let want: Vec<T> = (0..n).map(|i| T::from_f64(i as f64)).collect();
            assert_eq!(t.into_vec(), want);
        }
        for n in [0, 1, 15, 16, 17, 255, 256, 65_536] {
            check::<f32>(n);
            check::<f64>(n);
        }
    }
}
