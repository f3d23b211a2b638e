//! The element trait of the kernels: the scalar types a kernel can work on.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating point element type the kernels support (`f32` and `f64`).
///
/// Besides the arithmetic bounds it carries the entry point into the
/// type-specific GEMM routine of the `matrixmultiply` crate.
pub trait Element:
    num_traits::Float
    + Default
    + Debug
    + Send
    + Sync
    + 'static
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// `C = alpha * A @ B + beta * C` on raw strided matrices.
    ///
    /// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; `rs*`/`cs*` are the
    /// row and column strides in elements.
    ///
    /// # Safety
    /// Every element addressed through the pointers and strides must be valid
    /// (and `c` writable, not aliasing `a` or `b`). Use [`crate::cpu::gemm`]
    /// for a bounds-checked safe wrapper.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_element {
    ($t:ty, $gemm:path) => {
        impl Element for $t {
            #[inline]
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

impl_element!(f32, matrixmultiply::sgemm);
impl_element!(f64, matrixmultiply::dgemm);
