//! Devices: where a tensor's data lives, moving it, and the device checks of
//! the ops.
//!
//! Without the `cuda` feature every tensor is on [`Device::Cpu`] and the
//! checks compile to nothing. With it, a tensor may hold a CUDA buffer
//! instead of its CPU array (see `crate::cuda`); every op checks its tensors
//! first and either runs on the CUDA backend or panics naming the op and the
//! devices, so no op ever reads the (empty) CPU array of a CUDA tensor.

use std::fmt;

use crate::error::Error;
use crate::float::Float;
use crate::tensor::Tensor;

/// Where a tensor's data lives.
///
/// ```
/// use transforms_runtime::{Device, Tensor};
///
/// let x = Tensor::<f32>::ones(&[2]);
/// assert_eq!(x.device(), Device::Cpu);
/// assert_eq!(Device::Cuda(1).to_string(), "cuda:1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    /// Host memory (the default).
    Cpu,
    /// The CUDA device of this ordinal (needs the `cuda` feature).
    Cuda(usize),
}

impl Device {
    /// Waits until the work queued on this device has finished (nothing to
    /// wait for on the CPU). CUDA ops return when their work is queued, so
    /// time GPU calls up to a `synchronize`.
    ///
    /// # Errors
    /// [`Error::CudaUnavailable`] for a CUDA device that cannot be reached
    /// (or without the `cuda` feature), [`Error::Cuda`] if the wait fails.
    ///
    /// ```
    /// use transforms_runtime::Device;
    ///
    /// assert!(Device::Cpu.synchronize().is_ok());
    /// ```
    pub fn synchronize(self) -> Result<(), Error> {
        match self {
            Device::Cpu => Ok(()),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => crate::cuda::backend(i)?.synchronize(),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(no_cuda()),
        }
    }

    /// Device memory in use on a CUDA device, in bytes: this process's live
    /// buffers there (the driver's total minus free, all of the device's
    /// users, on a device without stream-ordered allocation); `None` on the
    /// CPU.
    ///
    /// # Errors
    /// As [`synchronize`](Device::synchronize).
    pub fn memory_in_use(self) -> Result<Option<usize>, Error> {
        match self {
            Device::Cpu => Ok(None),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => crate::cuda::backend(i)?.memory_in_use().map(Some),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(no_cuda()),
        }
    }
}

impl Device {
    /// The most device memory in use (as [`memory_in_use`](Device::memory_in_use))
    /// since the last [`reset_peak_memory`](Device::reset_peak_memory); `None`
    /// on the CPU or without stream-ordered allocation.
    ///
    /// ```
    /// use transforms_runtime::Device;
    ///
    /// // What a call needs at most: reset, call, read (here on the CPU,
    /// // which does not count).
    /// Device::Cpu.reset_peak_memory().unwrap();
    /// assert_eq!(Device::Cpu.peak_memory().unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// As [`synchronize`](Device::synchronize).
    pub fn peak_memory(self) -> Result<Option<usize>, Error> {
        match self {
            Device::Cpu => Ok(None),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => crate::cuda::backend(i)?.peak_memory(),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(no_cuda()),
        }
    }

    /// Starts a new [`peak_memory`](Device::peak_memory) from the memory in
    /// use now (nothing on the CPU).
    ///
    /// # Errors
    /// As [`synchronize`](Device::synchronize).
    pub fn reset_peak_memory(self) -> Result<(), Error> {
        match self {
            Device::Cpu => Ok(()),
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => crate::cuda::backend(i)?.reset_peak_memory(),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(no_cuda()),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl<T: Float> Tensor<T> {
    /// The device this tensor's data lives on.
    #[inline]
    pub fn device(&self) -> Device {
        #[cfg(feature = "cuda")]
        if let Some(c) = &self.cuda {
            return Device::Cuda(c.ordinal());
        }
        Device::Cpu
    }

    /// A copy of this tensor on `device` (this tensor itself, shared, when it
    /// is already there).
    ///
    /// # Errors
    /// [`Error::CudaUnavailable`] when `device` is a CUDA device and the crate
    /// was built without the `cuda` feature, the CUDA driver (or NVRTC or
    /// cuBLAS) library cannot be loaded, or there is no such device.
    ///
    /// ```
    /// use transforms_runtime::{Device, Error, Tensor};
    ///
    /// let x = Tensor::<f32>::ones(&[2]);
    /// assert_eq!(x.to_device(Device::Cpu).unwrap().to_vec(), vec![1.0, 1.0]);
    /// // On a machine without a usable CUDA device (or without the feature):
    /// if let Err(e) = x.to_device(Device::Cuda(0)) {
    ///     assert!(matches!(e, Error::CudaUnavailable { .. }));
    /// }
    /// ```
    pub fn to_device(&self, device: Device) -> Result<Tensor<T>, Error> {
        if self.device() == device {
            return Ok(self.clone());
        }
        #[cfg(feature = "cuda")]
        {
            crate::cuda::to_device(self, device)
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = device;
            Err(no_cuda())
        }
    }
}

/// The error for a CUDA device in a build without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
fn no_cuda() -> Error {
    Error::CudaUnavailable {
        reason: "transforms was built without the `cuda` feature".into(),
    }
}

/// The device all `devices` share; panics in the format of the shape errors
/// (`transforms: <op>: tensors on different devices (cpu and cuda:0), shapes
/// ..`) when they differ.
#[cfg(any(feature = "cuda", test))]
pub(crate) fn common_device(op: &str, devices: &[Device], shapes: &[&[usize]]) -> Device {
    let first = devices.first().copied().unwrap_or(Device::Cpu);
    if let Some(other) = devices.iter().find(|&&d| d != first) {
        let shapes = shapes.to_vec();
        crate::shape::fail!(
            op,
            shapes,
            "tensors on different devices ({first} and {other})"
        );
    }
    first
}

/// Panics: `op` has no CUDA implementation yet.
#[cfg(feature = "cuda")]
#[cold]
#[track_caller]
pub(crate) fn unsupported(op: &str, device: Device, shapes: &[&[usize]]) -> ! {
    let shapes = shapes.to_vec();
    crate::shape::fail!(
        op,
        shapes,
        "not yet supported on cuda (tensors on {device}); move them with to_device(Device::Cpu)"
    )
}

/// The CUDA ordinal the tensors are on, `None` when they are on the CPU;
/// panics when they are on different devices.
#[cfg(feature = "cuda")]
#[inline]
pub(crate) fn cuda_ordinal<T: Float>(op: &str, ts: &[&Tensor<T>]) -> Option<usize> {
    if ts.iter().all(|t| t.cuda.is_none()) {
        return None;
    }
    let devices: Vec<Device> = ts.iter().map(|t| t.device()).collect();
    let shapes: Vec<&[usize]> = ts.iter().map(|t| t.shape()).collect();
    match common_device(op, &devices, &shapes) {
        Device::Cuda(i) => Some(i),
        Device::Cpu => None,
    }
}

/// In an op: runs `$cuda` (an expression using the ordinal `$ord`) and
/// returns its value when the tensors are on a CUDA device; nothing (not
/// even the check) without the `cuda` feature.
macro_rules! on_cuda {
    ($op:expr, [$($t:expr),+ $(,)?], |$ord:ident| $cuda:expr) => {
        #[cfg(feature = "cuda")]
        if let Some($ord) = $crate::device::cuda_ordinal($op, &[$($t),+]) {
            return $cuda;
        }
    };
}
pub(crate) use on_cuda;

/// In an op: panics when its tensors are on different devices (a no-op
/// without the `cuda` feature).
macro_rules! same_device {
    ($op:expr, [$($t:expr),+ $(,)?]) => {
        #[cfg(feature = "cuda")]
        {
            let _ = $crate::device::cuda_ordinal($op, &[$($t),+]);
        }
    };
}
pub(crate) use same_device;

/// In an op without a CUDA implementation: panics naming the op when a
/// tensor is on a CUDA device; nothing without the `cuda` feature.
macro_rules! cpu_only {
    ($op:expr, [$($t:expr),+ $(,)?]) => {
        #[cfg(feature = "cuda")]
        if let Some(ord) = $crate::device::cuda_ordinal($op, &[$($t),+]) {
            let shapes: Vec<&[usize]> = vec![$($t.shape()),+];
            $crate::device::unsupported($op, $crate::Device::Cuda(ord), &shapes);
        }
    };
    ($op:expr, slice $ts:expr) => {
        #[cfg(feature = "cuda")]
        if let Some(ord) = $crate::device::cuda_ordinal($op, $ts) {
            let shapes: Vec<&[usize]> = $ts.iter().map(|t| t.shape()).collect();
            $crate::device::unsupported($op, $crate::Device::Cuda(ord), &shapes);
        }
    };
}
pub(crate) use cpu_only;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(Device::Cpu.to_string(), "cpu");
        assert_eq!(Device::Cuda(0).to_string(), "cuda:0");
        assert_eq!(format!("{:?}", Device::Cuda(3)), "Cuda(3)");
    }

    #[test]
    fn same_device() {
        let d = common_device("add", &[Device::Cuda(1), Device::Cuda(1)], &[&[2], &[2]]);
        assert_eq!(d, Device::Cuda(1));
        assert_eq!(common_device("add", &[], &[]), Device::Cpu);
    }

    #[test]
    #[should_panic(
        expected = "transforms: add: tensors on different devices (cpu and cuda:0), shapes [2, 3] and [3]"
    )]
    fn different_devices() {
        common_device("add", &[Device::Cpu, Device::Cuda(0)], &[&[2, 3], &[3]]);
    }

    #[test]
    #[should_panic(
        expected = "transforms: matmul: tensors on different devices (cuda:0 and cuda:1)"
    )]
    fn different_cuda_devices() {
        common_device(
            "matmul",
            &[Device::Cuda(0), Device::Cuda(1)],
            &[&[2, 2], &[2, 2]],
        );
    }
}
