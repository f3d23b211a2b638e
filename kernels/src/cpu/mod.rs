//! CPU kernels over contiguous row-major buffers.
//!
//! Shapes are `&[usize]`, strides are in elements. A stride of 0 broadcasts a
//! dimension; permuted strides transpose. All outputs are freshly allocated
//! contiguous row-major buffers. Kernels never use `unsafe` indexing except for
//! the GEMM call and the AVX dot products (`dots`), whose operands are
//! bounds-checked first; results are built
//! in place through `par::build_chunks` (in parallel when large) and the tiled
//! transpose, each with its initialisation argument beside it.

mod dots;
mod elementwise;
mod gemm;
mod gemm512;
mod iter;
mod par;
mod reduce;
mod rows;
mod sparse_rows;
mod strided;
mod transpose;
mod wide;

pub use dots::dots;
pub use elementwise::{all_equal, map, map_inplace, zip, zip_inplace};
pub use gemm::{GemmOperand, batched_gemm, gemm, shared_by_batch, stacked_rows};
pub use iter::{contiguous_strides, for_each_offset};
pub use par::{PAR_MIN_ELEMS, Sink, blocks, build_chunks, parallel};
pub use reduce::{sum_axes, sum_slice};
pub use rows::scaled_rows;
pub use strided::{copy_strided, zip_strided, zip3_strided};
pub use wide::wide;
