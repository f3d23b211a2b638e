//! The compiler behind `transforms`: attribute macros that parse a function
//! with syn, lower it to a small flat IR, apply grad / vjp / jvp / jacrev /
//! jacfwd / hessian / vmap (and value_and_grad, jacobian, linearize) as IR -> IR transforms, optimise and fuse, and
//! emit Rust that calls the `transforms` runtime. Use it through the
//! `transforms` crate, which documents the attributes.

mod call;
mod codegen;
mod dense_fold;
mod dense_tail;
mod differentiable;
mod dump;
mod errors;
mod expand;
mod fuse;
mod handoff;
mod hess_fold;
mod ir;
mod layout_folds;
mod lower;
mod memory_order;
mod opt;
mod prims;
mod rows;
mod spec;
mod transforms;
mod tview;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cuda;

use proc_macro::TokenStream;

use spec::Kind;

fn run(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(kind, attr.into(), item.into()).into()
}

/// `#[grad(argnums = ..)]`: generates `{fn}_grad`, the gradient of a function with a 0-dim output.
#[proc_macro_attribute]
pub fn grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Grad, attr, item)
}

/// `#[vjp(argnums = ..)]`: generates `{fn}_vjp(args) -> (out, pullback)`.
#[proc_macro_attribute]
pub fn vjp(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Vjp, attr, item)
}

/// `#[jvp(argnums = ..)]`: generates `{fn}_jvp(args, tangents) -> (out, tangent_out)`.
#[proc_macro_attribute]
pub fn jvp(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Jvp, attr, item)
}

/// `#[jacrev(argnums = ..)]`: the Jacobian by reverse mode, shape `out.shape ++ in.shape`.
#[proc_macro_attribute]
pub fn jacrev(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Jacrev, attr, item)
}

/// `#[jacfwd(argnums = ..)]`: the Jacobian by forward mode, shape `out.shape ++ in.shape`.
#[proc_macro_attribute]
pub fn jacfwd(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Jacfwd, attr, item)
}

/// `#[hessian(argnums = ..)]` = `jacfwd(jacrev(..))`: shape `out.shape ++ in.shape ++ in.shape`.
#[proc_macro_attribute]
pub fn hessian(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Hessian, attr, item)
}

/// `#[vmap(in_dims = .., out_dims = ..)]`: the function mapped over a batch dim.
#[proc_macro_attribute]
pub fn vmap(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Vmap, attr, item)
}

/// `#[differentiable]`: makes the function callable from transformed
/// functions and from `transform!` (its body is inlined at each call).
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    differentiable::expand(attr.into(), item.into(), None).into()
}

/// `#[custom_jvp(rule)]`: a differentiable function whose JVP is `rule`
/// (JAX's `custom_jvp`): `rule(params.., tangents..) -> (output, tangent)`.
#[proc_macro_attribute]
pub fn custom_jvp(attr: TokenStream, item: TokenStream) -> TokenStream {
    differentiable::expand(attr.into(), item.into(), Some("custom_jvp")).into()
}

/// `#[custom_vjp(fwd, bwd)]`: a differentiable function whose VJP is given
/// by `fwd(params..) -> (output, residuals..)` and
/// `bwd(scalar params.., residuals.., ct) -> cotangent(s)` (JAX's `custom_vjp`).
#[proc_macro_attribute]
pub fn custom_vjp(attr: TokenStream, item: TokenStream) -> TokenStream {
    differentiable::expand(attr.into(), item.into(), Some("custom_vjp")).into()
}

/// `transform!(vmap(jacrev(f, argnums = 2), in_dims = (None, None, 0)))`: the
/// transformed function of a `#[differentiable]` function, as a value.
#[proc_macro]
pub fn transform(input: TokenStream) -> TokenStream {
    call::expand(input.into()).into()
}

/// Continues a hand-off between a transformed function and a callee's body.
#[doc(hidden)]
#[proc_macro]
pub fn resume(input: TokenStream) -> TokenStream {
    handoff::resume(input.into()).into()
}

/// `#[value_and_grad(argnums = .., has_aux = ..)]`: generates `{fn}_value_and_grad(args) -> (value, grad)`.
#[proc_macro_attribute]
pub fn value_and_grad(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::ValueAndGrad, attr, item)
}

/// `#[jacobian(argnums = ..)]`: the Jacobian, by forward or reverse mode chosen at run time from the shapes.
#[proc_macro_attribute]
pub fn jacobian(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Jacobian, attr, item)
}

/// `#[linearize(argnums = ..)]`: generates `{fn}_linearize(args) -> (out, linear map)`.
#[proc_macro_attribute]
pub fn linearize(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Linearize, attr, item)
}

/// Marks a function with custom rules for the transform attributes below
/// it (which then transform a call of it); emits the function unchanged.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn custom_marker(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
