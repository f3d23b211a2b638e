//! The error type of the fallible constructors and of `to_device`.

use std::fmt;

/// Errors returned by fallible [`Tensor`](crate::Tensor) constructors.
/// (Shape errors inside ops panic instead; see the crate docs.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A shape did not fit the data or the op.
    Shape {
        /// The operation that failed.
        op: &'static str,
        /// What went wrong, including the shapes involved.
        message: String,
    },
    /// A CUDA device was asked for but cannot be used: the crate was built
    /// without the `cuda` feature, a CUDA library (driver, NVRTC, cuBLAS)
    /// cannot be loaded, or there is no device of that ordinal.
    CudaUnavailable {
        /// Why, naming the missing library or the failing call.
        reason: String,
    },
    /// A CUDA call failed on an available device (allocation, copy, ...).
    Cuda {
        /// The operation that failed.
        op: &'static str,
        /// The driver's error.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, message } => write!(f, "transforms: {op}: {message}"),
            Error::CudaUnavailable { reason } => {
                write!(f, "transforms: CUDA is unavailable: {reason}")
            }
            Error::Cuda { op, message } => write!(f, "transforms: {op}: CUDA error: {message}"),
        }
    }
}

impl std::error::Error for Error {}
