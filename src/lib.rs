//! # transforms
//!
//! Composable function transforms in the style of `torch.func` and JAX —
//! `grad`, `vjp`, `jvp`, `jacrev`, `jacfwd`, `hessian` and `vmap`, nested to
//! any depth — for Rust, done as a source-to-source compiler inside attribute
//! macros. Each attribute parses the function body, lowers it to a small IR,
//! applies the transform, optimises and fuses elementwise chains, and emits a
//! sibling Rust function that calls this crate's runtime. Nothing is traced or
//! taped at run time.
//!
//! ```
//! use transforms::prelude::*;
//!
//! #[jacrev(argnums = 2)]
//! #[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
//! fn predict(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
//!     linear(x, weight, bias).tanh()
//! }
//!
//! let (w, b) = (Tensor::randn(&[3, 4], 0), Tensor::randn(&[3], 1));
//! let x = Tensor::randn(&[4], 2);
//! let jac = predict_jacrev(&w, &b, &x); // d predict / d x
//! assert_eq!(jac.shape(), &[3, 4]);
//! let xs = Tensor::randn(&[5, 4], 3);
//! assert_eq!(batch_hessian(&w, &b, &xs).shape(), &[5, 3, 4, 4]);
//! ```
//!
//! ## The attributes
//! Each attribute generates a sibling function with the same visibility,
//! named `{fn}_{transform}` (nested: `{fn}_{outer}_{inner}`) or `name = ident`.
//! The annotated function itself is unchanged; several attributes may stand on
//! one function. Composition is by nesting a transform as the first
//! positional argument: `#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0))]`.
//!
//! | attribute | generated signature |
//! |---|---|
//! | `#[grad(argnums = ..)]` | `fn f_grad(args..) -> Tensor` (or a tuple for tuple argnums); the output must be 0-dim |
//! | `#[vjp(argnums = ..)]` | `fn f_vjp(args..) -> (out, FVjp)`; `pullback.call(&ct)` gives the cotangent(s), `pullback.vmap(&cts)` maps that over dim 0 of `cts` |
//! | `#[jvp(argnums = ..)]` | `fn f_jvp(args.., tangents for argnums in order) -> (out, tangent_out)` |
//! | `#[jacrev(argnums = ..)]`, `#[jacfwd(argnums = ..)]` | Jacobian of shape `out.shape ++ in.shape` |
//! | `#[hessian(argnums = ..)]` | `jacfwd(jacrev(..))`, shape `out.shape ++ in.shape ++ in.shape` |
//! | `#[vmap(in_dims = .., out_dims = ..)]` | `stack([f(x_i) for x_i in unbind(x, in_dim)], out_dim)` |
//!
//! * `argnums`: an int gives one tensor, a tuple gives a tuple in argnums
//!   order (also a 1-tuple); default 0; negative counts from the end. It must
//!   name `&Tensor` parameters. With several outputs there is one result per
//!   output, outermost (as torch.func).
//! * `in_dims`: an int (every argument) or a tuple with one entry per
//!   parameter, each `None` or an int (negative allowed); scalar parameters
//!   must be `None`. Mapped inputs with different batch sizes panic at run
//!   time with a message naming both. `out_dims`: an int, default 0.
//! * `name = ident`: the generated function's name (outermost transform only).
//!
//! ## What a transformed body may contain
//! * parameters `&Tensor<T>` (`T` = `f32` or `f64`; differentiable) and plain
//!   scalars or integers (constants); a `Tensor` or a tuple of `Tensor`s as
//!   the return type;
//! * `linear(x, w, b)` (= x @ wᵀ + b) and `matmul(a, b)` (torch.matmul);
//! * methods `tanh exp ln sin cos sqrt sigmoid relu square neg recip powf(c)
//!   sum() sum_dim(d) mean() mean_dim(d) t() transpose(a, b) reshape(&[..])
//!   unsqueeze(d) matmul(&b) clone()`;
//! * `+ - * /` between tensors (numpy broadcasting) and with scalars of the
//!   element type on either side, unary `-`;
//! * `let` bindings, shadowing, blocks, parentheses, a tail expression or a
//!   final `return`.
//!
//! Anything else is a compile error at its span naming the construct. Shape
//! errors at run time panic with a message naming the op and the shapes.
//!
//! ## Reading the generated code
//! Set `TRANSFORMS_DUMP=<dir>` while building: every generated function is
//! written, pretty-printed, to `<dir>/<name>.rs` (a relative `<dir>` is
//! relative to the directory the compiler runs in; cargo does not track the
//! variable, so `touch` the source file or `cargo clean -p <crate>` first).

pub use transforms_macros::{grad, hessian, jacfwd, jacrev, jvp, vjp, vmap};
pub use transforms_runtime::{
    CmpRhs, Error, Float, Tensor, cat, linear, matmul, maximum, minimum, stack, where_,
};

/// Everything a transformed function needs: `use transforms::prelude::*;`.
pub mod prelude {
    pub use transforms_macros::{grad, hessian, jacfwd, jacrev, jvp, vjp, vmap};
    pub use transforms_runtime::{
        Float, Tensor, cat, linear, matmul, maximum, minimum, stack, where_,
    };
}

/// The runtime items generated code calls. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use transforms_runtime::{elem, ops};
}
