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
//! * methods `tanh exp exp2 ln log1p sin cos sqrt sigmoid relu abs square neg
//!   recip powf(c) clamp(lo, hi) sum() sum_dim(d) mean() mean_dim(d)
//!   softmax(d) log_softmax(d) logsumexp(d) norm() max_dim(d) t()
//!   transpose(a, b) reshape(&[..]) unsqueeze(d) narrow(d, start, len)
//!   index_select(d, &[..]) matmul(&b) clone()`;
//! * comparison masks `a.gt(&b) a.lt(&b) a.ge(&b) a.le(&b)` (a tensor, which
//!   broadcasts, or a scalar on the right), giving a 0/1 tensor of the
//!   element type with zero derivative, and the free functions
//!   `maximum(&a, &b)`, `minimum(&a, &b)` (broadcasting like `+`),
//!   `where_(&cond, &a, &b)` (`a` where `cond != 0`, else `b`; all three
//!   broadcast), `cat(&[a, b, ..], d)` and `stack(&[a, b, ..], d)` (an array
//!   literal of tensors that agree in shape except along `d`; for `stack`
//!   equal shapes);
//! * `+ - * /` between tensors (numpy broadcasting) and with scalars of the
//!   element type on either side, unary `-`;
//! * `let` bindings (also `let (a, b) = ..` of a tuple), shadowing, blocks,
//!   parentheses, a tail expression or a final `return`;
//! * calls to `#[differentiable]` functions, `for` and `while` loops and
//!   `if`/`else` on scalars (see [Programs](#programs-calls-loops-and-branches)).
//!
//! Anything else is a compile error at its span naming the construct. Shape
//! errors at run time panic with a message naming the op and the shapes.
//!
//! Dims follow torch: negative dims count from the end; `clamp` takes scalar
//! bounds; `narrow(d, start, len)` takes a negative `start` from the end;
//! `index_select(d, &[i0, i1, ..])` takes an array literal of non-negative
//! integer expressions (repeats allowed); `norm()` is the L2 norm of all
//! elements (0-dim); `max_dim(d)` gives the values of the max along `d`,
//! which is removed (torch.amax); `stack` is `cat` of `unsqueeze(d)`s, so
//! its run-time errors name `cat`. `softmax`, `log_softmax` and `logsumexp`
//! subtract the max along `d` first (a shift without derivative), so inputs
//! like `1000.0` neither overflow nor lose their derivative.
//!
//! ### Derivatives at kinks and ties
//! The conventions are those of torch.func / JAX:
//! * `abs`: `sign(x)`, so 0 at `x = 0` (torch; JAX takes 1 there).
//! * `maximum`, `minimum`: at ties `a == b` each input gets half (JAX).
//! * `max_dim`: the derivative is shared equally among the maxima (torch's
//!   `amax`, JAX's `max`).
//! * `clamp(lo, hi)`: 1 for `lo <= x <= hi`, the bounds included (torch),
//!   0 outside.
//! * comparisons and the condition of `where_` carry no derivative; the
//!   unselected branch of `where_` gets a zero cotangent and its tangent is
//!   never read, so a NaN there does not leak through forward mode (JAX's
//!   `select`).
//! * `norm()` at `x = 0`: NaN, as `sqrt` there (JAX; torch gives 0).
//! * `relu`: 0 at `x = 0` (torch and JAX).
//!
//! ## Programs: calls, loops and branches
//! `#[differentiable]` makes a function callable from transformed functions
//! (and from other differentiable ones), in the same module, another module
//! or another crate (a `pub` differentiable function of a library crate).
//! Every transform and any nesting flows through the call: the callee's
//! body is inlined at compile time (the attribute emits, beside the
//! function, a `macro_rules!` of the same name that hands its body to the
//! caller's expansion, so import it as you import the function).
//!
//! ```
//! use transforms::prelude::*;
//!
//! #[differentiable]
//! fn layer(x: &Tensor, w: &Tensor) -> Tensor {
//!     matmul(w, x).tanh()
//! }
//!
//! #[hessian]
//! fn energy(x: &Tensor, w: &Tensor) -> Tensor {
//!     let mut h = x.clone();
//!     for _ in 0..3 {
//!         h = layer(&h, w) + &h; // a residual block, three times
//!     }
//!     h.square().sum()
//! }
//!
//! let (x, w) = (Tensor::randn(&[4], 0), Tensor::randn(&[4, 4], 1) * 0.3);
//! assert_eq!(energy_hessian(&x, &w).shape(), &[4, 4]);
//! // A call-site transform of a differentiable function, as functorch writes it:
//! let xs = Tensor::randn(&[8, 4], 2);
//! let jac = transform!(vmap(jacrev(layer, argnums = 0), in_dims = (0, None)))(&xs, &w);
//! assert_eq!(jac.shape(), &[8, 4, 4]);
//! ```
//!
//! * A call to a function without `#[differentiable]` is a compile error at
//!   the call: rustc's ``cannot find macro `f` `` and ours, "a function that
//!   is transformed, or called inside a transformed function, must be
//!   `#[differentiable]`", whose note says to add the attribute to `f` and
//!   import `f` where it is called. A differentiable function
//!   may not call itself (recursion cannot be inlined: write a loop).
//! * `transform!(kind(f, key = value, ..))` takes the attributes' grammar with
//!   the function in the innermost position and gives the generated function
//!   as a value (its parameter types are those of `f`'s signature, so the
//!   names they use must be in scope at the call).
//! * `for i in a..b` (also `a..=b`, `(a..b).rev()`, `_` for the index) over
//!   scalar or integer bounds, e.g. a parameter `n: usize`: the body may
//!   assign (`x = ..;`) tensors bound outside with `let mut`, and use the
//!   index in scalar arithmetic. A loop lowers to one `scan` primitive
//!   whatever its trip count (it is never unrolled): forward mode carries
//!   tangents through the loop; reverse mode stores, per iteration, what the
//!   backward loop needs (the values its derivative reads) and runs the
//!   transposed body backwards; `vmap` batches the body. A tensor assigned
//!   in a loop must keep its shape (checked at run time).
//! * `while cond { .. }` where `cond` reads scalar state the body updates
//!   (`let mut k = 0; while h > tol { ..; h *= 0.5; k += 1; }`; compound
//!   assignments `+= -= *= /=` work on tensors too). The scalar part runs
//!   first and records every iteration's state, so the trip count is known;
//!   the tensor part is one scan over the recorded iterations, so forward and
//!   reverse mode (which replays the states backwards) and `vmap` all apply.
//!   The state's final values are available after the loop. A condition on
//!   tensor values is not expressible (no tensor-to-scalar conversion inside
//!   a transformed function), so `vmap` never meets data-dependent control
//!   flow.
//! * `if c { .. } else if d { .. } else { .. }` on scalar conditions
//!   (comparisons, `&& || !` of parameters and loop indices), as a statement
//!   that assigns `let mut` tensors or as an expression whose value is a
//!   tensor or a tuple of tensors. Each branch runs only when taken. A
//!   choice per element is `where_` (data-dependent control flow on tensor
//!   values is not expressible, so `vmap` never meets it).
//!
//! ## Custom derivative rules
//! As JAX's `custom_jvp` / `custom_vjp`, for numerically stable or cheaper
//! derivatives, straight-through estimators, gradient clipping. The rule
//! functions are `#[differentiable]` (they are differentiated in turn for
//! higher orders); the rule is used wherever the function is called from a
//! transformed function, transformed with `transform!`, or transformed by
//! attributes on the function itself (above or below the custom one).
//!
//! ```
//! use transforms::prelude::*;
//!
//! #[custom_jvp(softplus_jvp)]
//! fn softplus(x: &Tensor<f64>) -> Tensor<f64> {
//!     (x.exp() + 1.0).ln()
//! }
//!
//! /// `(f's parameters.., one tangent per tensor parameter) -> (output, tangent)`.
//! #[differentiable]
//! fn softplus_jvp(x: &Tensor<f64>, t: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
//!     ((x.exp() + 1.0).ln(), t * x.sigmoid())
//! }
//!
//! /// The identity whose cotangent is clipped to `[-c, c]`.
//! #[custom_vjp(clip_fwd, clip_bwd)]
//! fn clip_gradient(x: &Tensor<f64>, c: f64) -> Tensor<f64> {
//!     x * 1.0
//! }
//!
//! /// `(f's parameters..) -> (output, residuals..)`.
//! #[differentiable]
//! fn clip_fwd(x: &Tensor<f64>, _c: f64) -> (Tensor<f64>, Tensor<f64>) {
//!     (x * 1.0, x * 0.0)
//! }
//!
//! /// `(f's scalar parameters.., residuals.., cotangent) -> one cotangent per tensor parameter`.
//! #[differentiable]
//! fn clip_bwd(c: f64, _unused: &Tensor<f64>, ct: &Tensor<f64>) -> Tensor<f64> {
//!     ct.clamp(-c, c)
//! }
//!
//! #[grad]
//! fn loss(x: &Tensor<f64>) -> Tensor<f64> {
//!     (softplus(x) + clip_gradient(&(x * 10.0), 1.0).square()).sum()
//! }
//!
//! #[hessian]
//! fn smooth(x: &Tensor<f64>) -> Tensor<f64> {
//!     softplus(x).sum()
//! }
//!
//! let x = Tensor::from_shape_vec(&[2], vec![0.5, -2.0]).unwrap();
//! let g = loss_grad(&x); // sigmoid(x) + 10 * clamp(2 * 10x, -1, 1)
//! assert!((g.to_vec()[0] - (1.0 / (1.0 + (-0.5f64).exp()) + 10.0)).abs() < 1e-12);
//! let s = 1.0 / (1.0 + (-0.5f64).exp());
//! assert!((smooth_hessian(&x).to_vec()[0] - s * (1.0 - s)).abs() < 1e-12);
//! ```
//!
//! * `custom_jvp`: the rule must be linear in the tangents (its transpose
//!   gives reverse mode), as in JAX.
//! * `custom_vjp`: reverse mode (grad, vjp, jacrev) runs `bwd` as written,
//!   nonlinear in the cotangent or not. Forward mode (jvp, jacfwd, and so
//!   `hessian` = jacfwd(jacrev) where the forward part meets the function
//!   itself) is derived by transposing `bwd`, which works when `bwd` is
//!   linear in the cotangent (JAX refuses forward mode altogether); otherwise
//!   it is a compile error at the call naming the operation (above, a
//!   `hessian` of `loss` would be refused: `clip_bwd` clamps the
//!   cotangent).
//! * The rule functions cannot call the function they define rules for.
//!
//! ## GPU (feature `cuda`)
//! With the cargo feature `cuda` (`transforms = { .., features = ["cuda"] }`)
//! tensors can live on a CUDA device: [`Device`] is `Cpu` or `Cuda(ordinal)`,
//! [`Tensor::device`] says where a tensor is and [`Tensor::to_device`] copies
//! it. The CUDA libraries are loaded at run time (cudarc 0.19, CUDA 13), so
//! the crate builds without a GPU or CUDA toolkit; when the driver, NVRTC or
//! cuBLAS library is missing, or the device does not exist, `to_device` returns
//! [`Error::CudaUnavailable`] naming the reason (without the feature it says
//! so), never a panic.
//!
//! ```
//! use transforms::prelude::*;
//! use transforms::Error;
//!
//! let x = Tensor::<f32>::ones(&[2, 3]);
//! match x.to_device(Device::Cuda(0)) {
//!     Ok(xd) => assert_eq!(xd.device(), Device::Cuda(0)),
//!     Err(Error::CudaUnavailable { reason }) => println!("no GPU: {reason}"),
//!     Err(e) => panic!("{e}"),
//! }
//! ```
//!
//! Ops run where their tensors are; tensors on different devices panic like
//! the shape errors (`transforms: add: tensors on different devices (cpu and
//! cuda:0), shapes ..`), and so does an op without a CUDA implementation yet
//! (`.. not yet supported on cuda ..`); the elements of a CUDA tensor are
//! read only after `to_device(Device::Cpu)`. On CUDA: GEMMs (`matmul`,
//! `linear` and their transposes) through cuBLAS; elementwise unary and
//! scalar ops, broadcasting binary ops and `where_`, sums and means and their
//! transposes, and layout ops (transpose, broadcast, reshape, select) through
//! kernels written in CUDA C (`kernels/cuda/*.cu`), compiled with NVRTC for
//! the device's architecture at first use and cached per process; and the
//! fused elementwise chains the compiler emits, which carry their CUDA C form
//! beside the CPU closure (`ops::fused*_src`) when their scalars are
//! constants; the symbolic Jacobian bases (`diag*`) in their dense form (the
//! basis, then a cuBLAS product), not as the CPU's row gathers yet. Not yet
//! on CUDA: chains with a runtime scalar, `cat`/`stack`, `narrow`,
//! `index_select`, `max_dim`, and loops (`scan`).
//!
//! **What is verified:** the workspace builds and lints with the feature on a
//! machine without a GPU, every CUDA source (and every fused chain emitted
//! for programs that use every elementwise primitive) compiles
//! with NVRTC to PTX (CI loads libnvrtc from PyPI's `nvidia-cuda-nvrtc`),
//! and missing libraries give `CudaUnavailable`. **What awaits a GPU run:**
//! the launches, copies and cuBLAS calls themselves; the per-device tests
//! (`tests/devices.rs`) then run their `_cuda` variants (set
//! `TRANSFORMS_REQUIRE_CUDA=1` so that they fail instead of skipping).
//!
//! ## Reading the generated code
//! Set `TRANSFORMS_DUMP=<dir>` while building: every generated function is
//! written, pretty-printed, to `<dir>/<name>.rs` (a relative `<dir>` is
//! relative to the directory the compiler runs in; cargo does not track the
//! variable, so `touch` the source file or `cargo clean -p <crate>` first).

pub use transforms_macros::{
    custom_jvp, custom_vjp, differentiable, grad, hessian, jacfwd, jacobian, jacrev, jvp,
    linearize, transform, value_and_grad, vjp, vmap,
};
/// Compiles CUDA C to PTX with NVRTC, without a GPU (feature `cuda`).
#[cfg(feature = "cuda")]
pub use transforms_runtime::nvrtc_compile;
pub use transforms_runtime::{
    CmpRhs, Device, Error, Float, Tensor, cat, linear, matmul, maximum, minimum, stack, where_,
};

/// Everything a transformed function needs: `use transforms::prelude::*;`.
pub mod prelude {
    pub use transforms_macros::{
        custom_jvp, custom_vjp, differentiable, grad, hessian, jacfwd, jacobian, jacrev, jvp,
        linearize, transform, value_and_grad, vjp, vmap,
    };
    pub use transforms_runtime::{
        Device, Float, Tensor, cat, linear, matmul, maximum, minimum, stack, where_,
    };
}

/// The runtime items generated code calls. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use transforms_macros::{custom_marker, resume};
    pub use transforms_runtime::{elem, ops};

    /// Implemented, through its hand-off, for the probe of each call that
    /// resolved to a differentiable function; a call that did not resolve
    /// leaves its probe without it, and this note says how to fix it.
    #[diagnostic::on_unimplemented(
        message = "a function that is transformed, or called inside a transformed function, \
                   must be `#[differentiable]`",
        label = "this function is not `#[transforms::differentiable]`, or it is not imported here",
        note = "add `#[transforms::differentiable]` to the function's definition, and import it \
                where it is called: `use path::to::function;` brings the function and its hand-off"
    )]
    pub trait Differentiable {}

    /// Compiles only for a probe marked [`Differentiable`].
    pub const fn require_differentiable<T: Differentiable>() {}
}
