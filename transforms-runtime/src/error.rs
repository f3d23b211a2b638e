//! The error type of the fallible constructors.

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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, message } => write!(f, "transforms: {op}: {message}"),
        }
    }
}

impl std::error::Error for Error {}
