//! # transforms
//!
//! Composable function transforms in the style of `torch.func` and JAX —
//! `grad`, `vjp`, `jvp`, `jacrev`, `jacfwd`, `hessian` and `vmap`, nested to
//! any depth, plus `value_and_grad`, `jacobian` and `linearize` — for Rust, done as a source-to-source compiler inside attribute
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
//! ## Examples
//! Runnable programs in `examples/`, each asserting its results:
//! * `cargo run --release --example jacobians_hessians`: the functorch
//!   tutorial *Jacobians, Hessians, hvp, vhp, and more*, cell by cell.
//! * `cargo run --release --example newton`: Newton's method for a nonlinear
//!   system in R⁸ (`#[jacobian]` of a residual that calls `#[differentiable]`
//!   helpers, a dense LU solve, quadratic convergence) and for minimising the
//!   Rosenbrock function (`#[value_and_grad]`, `#[hessian]`, backtracking).
//! * `cargo run --release --example mlp_per_sample_grads`: per-sample
//!   gradients of an MLP by `vmap(grad)` with shared parameters, against a
//!   loop of `grad` calls and the call-site `transform!`, both timed.
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
//! | `#[value_and_grad(argnums = ..)]` | `fn f_value_and_grad(args..) -> (value, grad)` (JAX) |
//! | `#[jacobian(argnums = ..)]` | what `jacrev` returns, by forward or reverse mode chosen at run time (below) |
//! | `#[linearize(argnums = ..)]` | `fn f_linearize(args..) -> (out, FLinearize)`; `lin.call(&t..)` gives the output tangent (JAX `linearize`) |
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
//! * `has_aux = true` (grad, vjp, jvp, jacrev, jacfwd, hessian,
//!   value_and_grad, jacobian): the function returns `(output, aux)`, aux a
//!   tensor or a (nested) tuple of tensors. The aux is computed once, not
//!   differentiated, and returned alongside, with torch.func's structure:
//!   grad, jacrev, jacfwd, hessian and jacobian give `(result, aux)`, vjp
//!   `(out, pullback, aux)`, jvp `(out, tangent_out, aux)` and value_and_grad
//!   `((value, aux), grad)`. Under an outer `vmap` the aux is batched like
//!   any output, and an outer transform with `has_aux` takes an inner one's
//!   `(result, aux)`: `#[jacrev(grad(has_aux = true), has_aux = true)]` is
//!   the Hessian with the aux. Any other return is a compile error.
//! * `chunk_size = k` (vmap and jacrev, outermost only; `k` a positive
//!   integer literal): the batch, or the identity basis of output
//!   cotangents, is processed `k` rows at a time and the pieces are
//!   concatenated, so the intermediates of one piece are bounded by `k` rows;
//!   the result is the unchunked one (torch.func). A chunked `jacrev` runs
//!   the function once and pulls back `k` basis rows at a time (dense rows,
//!   so the unchunked `jacrev`, whose basis stays symbolic, is faster when
//!   memory allows).
//! * `jacobian` runs the function once, then forward mode (`jacfwd`) when
//!   the differentiated inputs have fewer elements in all than the outputs,
//!   and reverse mode (`jacrev`) otherwise; the result is the same either way.
//! * `vjp`, `linearize` (which return objects) and `jacobian` (a run-time
//!   choice) must be outermost; the others nest freely, also inside
//!   `value_and_grad`.
//!
//! ```
//! use transforms::prelude::*;
//!
//! #[value_and_grad(argnums = 1, has_aux = true)]
//! #[linearize(argnums = 1)]
//! fn loss(x: &Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
//!     let h = x.matmul(w);
//!     (h.tanh().sum(), h) // (output, aux)
//! }
//!
//! let (x, w) = (Tensor::<f64>::randn(&[3], 0), Tensor::randn(&[3, 2], 1));
//! let ((value, h), g) = loss_value_and_grad(&x, &w);
//! assert_eq!((value.shape(), h.shape(), g.shape()), (&[][..], &[2][..], &[3, 2][..]));
//! // linearize: the primal once, then only the linear part per tangent.
//! let ((out, _), lin) = loss_linearize(&x, &w);
//! let (d_out, d_h) = lin.call(&Tensor::randn(&[3, 2], 2));
//! assert_eq!((d_out.shape(), d_h.shape()), (&[][..], &[2][..]));
//! ```
//!
//! ## What a transformed body may contain
//! * parameters `&Tensor<T>` (`T` = `f32` or `f64`; differentiable) and plain
//!   scalars or integers (constants); a `Tensor` or a (nested) tuple of
//!   `Tensor`s as the return type;
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

pub use transforms_macros::{
    differentiable, grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, transform,
    value_and_grad, vjp, vmap,
};
pub use transforms_runtime::{Error, Float, Tensor, linear, matmul};

/// Everything a transformed function needs: `use transforms::prelude::*;`.
pub mod prelude {
    pub use transforms_macros::{
        differentiable, grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, transform,
        value_and_grad, vjp, vmap,
    };
    pub use transforms_runtime::{Float, Tensor, linear, matmul};
}

/// The runtime items generated code calls. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use transforms_macros::resume;
    pub use transforms_runtime::{elem, ops};
}
