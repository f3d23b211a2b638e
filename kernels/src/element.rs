//! The element trait of the kernels: the scalar types a kernel can work on.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating point element type the kernels support (`f32` and `f64`).
///
/// Besides the arithmetic bounds it carries the entry point into the
/// type-specific GEMM routines (see [`Element::gemm_raw`]).
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
    /// The widest output row (`n`) that [`Element::gemm_raw`] hands to the
    /// `gemm` crate; wider ones go to `matrixmultiply`.
    const GEMM_CRATE_MAX_N: usize;

    /// `C = alpha * A @ B + beta * C` on raw strided matrices.
    ///
    /// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; `rs*`/`cs*` are the
    /// row and column strides in elements.
    ///
    /// Two crates share the work, by the shape of the product and the type
    /// (measured on one AVX2 core, row-major `C`, one call per shape):
    /// - f32: for short output rows (`n <= 64`) the `gemm` crate's kernels
    ///   were 1.1-2.0x faster than `matrixmultiply`'s (m from 256 to 4096, k
    ///   from 32 to 256; 1024 x 64 x 32: 70.7 against 89.9 us); from n = 256
    ///   they were even or up to 1.15x slower, so those stay with
    ///   `matrixmultiply`.
    /// - f64: `gemm` was 1.0-1.5x faster on every shape measured (64 x 31 x
    ///   33 to 1024 x 256 x 64, and 256 cubed), so it takes all of them.
    ///
    /// `gemm` is used only with `beta == 0` (the only form the kernels
    /// call), where it does not read `C`.
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
    ($t:ty, $gemm:path, $max_n:expr) => {
        impl Element for $t {
            const GEMM_CRATE_MAX_N: usize = $max_n;

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
                if n <= Self::GEMM_CRATE_MAX_N && beta == 0.0 {
                    // `gemm` computes dst = alpha * dst + beta * lhs @ rhs, with
                    // its strides column first; dst is not read (its alpha is
                    // then ignored), so uninitialised output is fine.
                    // SAFETY: the same matrices under the caller's contract.
                    return unsafe {
                        gemm::gemm(
                            m,
                            n,
                            k,
                            c,
                            csc,
                            rsc,
                            false,
                            a,
                            csa,
                            rsa,
                            b,
                            csb,
                            rsb,
                            0.0,
                            alpha,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        )
                    };
                }
                // SAFETY: forwarded from the caller's contract.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

impl_element!(f32, matrixmultiply::sgemm, 64);
impl_element!(f64, matrixmultiply::dgemm, usize::MAX);
