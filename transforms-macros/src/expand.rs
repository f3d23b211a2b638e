//! One attribute's expansion: parse, lower, transform, optimise, emit.
//! On any error the original function is emitted unchanged beside the
//! `compile_error!`s, so the user sees every error and nothing else breaks.
//!
//! Transforms that are plain functions of tensors go through [`build`]
//! (recursively for nesting) and are emitted here; `vjp` and `linearize`
//! (which return objects) are emitted by `objects`, chunked `vmap` and
//! `jacrev` by `chunk`, and `jacobian` (a run-time choice of mode) by
//! `jacobian`.

mod args;
pub(crate) mod chunk;
mod jacobian;
mod objects;

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Ident, ItemFn};

use crate::codegen::{self, Operand};
use crate::errors::Errors;
use crate::handoff::{self, Job, State};
use crate::ir::{Func, print, verify};
use crate::lower::{Lowered, lower};
use crate::spec::{self, Kind, Spec};
use crate::transforms::aux::{self, Aux};
use crate::transforms::{jac, jvp, vmap};
use crate::{dump, opt};

pub fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errs = Errors::default();
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.into_compile_error();
            return quote!(#item #e);
        }
    };
    // Grammar errors show at once, before any hand-off to a callee.
    spec::parse(kind, Span::call_site(), attr.clone(), true, &mut errs);
    let rest = match errs.into_result() {
        Ok(()) => handoff::drive(
            Job::Attr {
                kind: Ident::new(kind.name(), Span::call_site()),
                args: attr,
                item: through_rules(&item_fn),
            },
            State::default(),
        ),
        Err(e) => e.into_compile_error(),
    };
    quote!(#item_fn #rest)
}

/// A function with custom rules (`#[custom_jvp]`/`#[custom_vjp]` on it, in
/// either order with the transform attributes) is transformed as a call of
/// itself, so that its rules apply (through its hand-off); others as they are.
fn through_rules(item: &ItemFn) -> ItemFn {
    let custom = item.attrs.iter().any(|a| {
        a.path().segments.last().is_some_and(|s| {
            ["custom_jvp", "custom_vjp", "custom_marker"].contains(&s.ident.to_string().as_str())
        })
    });
    if !custom {
        return item.clone();
    }
    handoff::calling(item, &item.sig.ident)
}

/// Every callee resolved: the generated items, or the errors.
pub fn finish(kind: &Ident, args: TokenStream, item: &ItemFn, state: &State) -> TokenStream {
    match finish_items(kind, args, item, state, true) {
        Ok((items, _)) => {
            dump::write(&items);
            items
        }
        Err(e) => e.into_compile_error(),
    }
}

/// The generated items and the generated function's name. `keep_alive`:
/// the generated function mentions the original so that it counts as used.
pub fn finish_items(
    kind_id: &Ident,
    args: TokenStream,
    item: &ItemFn,
    state: &State,
    keep_alive: bool,
) -> Result<(TokenStream, Ident), syn::Error> {
    let mut errs = Errors::default();
    let Some(kind) = Kind::from_name(&kind_id.to_string()) else {
        return Err(syn::Error::new(
            kind_id.span(),
            "transforms: unknown transform",
        ));
    };
    let written = format!("#[{}({args})]", kind.name());
    let spec = spec::parse(kind, kind_id.span(), args, true, &mut errs);
    let body = handoff::renamed(item, state);
    let generated = lower(&body, state, &mut errs).and_then(|l| {
        let mut cx = Cx::new(&spec, &written, item, &l);
        cx.keep_alive = keep_alive;
        generate(&cx, &spec, &mut errs).map(|t| (t, cx.name.clone()))
    });
    errs.into_result()?;
    generated.ok_or_else(|| {
        syn::Error::new(
            kind_id.span(),
            "transforms: internal error: no output and no error",
        )
    })
}

/// What every emitter needs about the annotated function and the attribute.
pub(crate) struct Cx<'a> {
    pub item: &'a ItemFn,
    pub lowered: &'a Lowered,
    /// The generated function's name.
    pub name: Ident,
    /// Its doc line.
    pub doc: String,
    /// Whether the generated function mentions the original (so that it
    /// counts as used); not for `transform!`, where it may be out of scope.
    pub keep_alive: bool,
}

impl<'a> Cx<'a> {
    fn new(spec: &Spec, written: &str, item: &'a ItemFn, lowered: &'a Lowered) -> Self {
        let fn_name = &item.sig.ident;
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| format_ident!("{}_{}", fn_name, kinds(spec).join("_")));
        let doc =
            format!(" `{written}` of [`{fn_name}`], generated at compile time by `transforms`.");
        Cx {
            item,
            lowered,
            name,
            doc,
            keep_alive: true,
        }
    }

    /// `let _ = original;` when [`Cx::keep_alive`].
    pub(crate) fn keep(&self) -> TokenStream {
        let orig = &self.item.sig.ident;
        if self.keep_alive {
            quote!(let _ = #orig;)
        } else {
            TokenStream::new()
        }
    }

    fn base(&self) -> &Func {
        &self.lowered.func
    }

    fn tensor_ty(&self) -> &TokenStream {
        &self.lowered.tensor_ty
    }
}

fn kinds(spec: &Spec) -> Vec<&'static str> {
    let mut names = vec![spec.kind.name()];
    if let Some(inner) = &spec.inner {
        names.extend(kinds(inner));
    }
    names
}

/// A generated local name that cannot clash with the user's.
pub(crate) fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

fn nested_error(kind: Kind) -> String {
    match kind {
        Kind::Vjp => "vjp returns a pullback object and cannot be nested inside another transform; put it outermost".into(),
        Kind::Linearize => "linearize returns a linear-map object and cannot be nested inside another transform; put it outermost".into(),
        _ => format!(
            "{} picks its mode at run time and cannot be nested inside another transform; nest jacrev or jacfwd instead",
            kind.name()
        ),
    }
}

/// The function `spec` applies to, split into output and aux when
/// `has_aux = true`. The error for a function that does not return
/// `(output, aux)` points at the return type when the transform applies to
/// the annotated function, or else at `has_aux`'s `true`.
pub(crate) fn operand_func(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<(Func, Option<Aux>)> {
    let f = inner_func(cx, spec, errs)?;
    let Some(aux_span) = spec.has_aux else {
        return Some((f, None));
    };
    match aux::split(&f) {
        Some((main, aux)) => Some((main, Some(aux))),
        None => {
            let span = if spec.inner.is_some() {
                aux_span
            } else {
                cx.lowered.ret_span
            };
            errs.at(
                span,
                format!(
                    "has_aux = true needs a function returning a pair `(output, aux)` (aux: a tensor or a tuple of tensors), but this one returns {}",
                    describe(&f.tree)
                ),
            );
            None
        }
    }
}

fn describe(t: &crate::ir::Tree) -> String {
    match t {
        crate::ir::Tree::Leaf(_) => "a single tensor".into(),
        crate::ir::Tree::Tuple(ts) => format!("a {}-tuple", ts.len()),
    }
}

/// Builds the IR function for `spec` applied to the annotated function
/// (inner first). Errors about the function itself go to `blame` (the
/// outermost transform blames the function's return type, a nested one its
/// own name).
fn build(cx: &Cx, spec: &Spec, blame: Span, errs: &mut Errors) -> Option<Func> {
    let (f, aux) = operand_func(cx, spec, errs)?;
    let result = match spec.kind {
        Kind::Vmap => {
            let dims = args::in_dims(spec, &f, errs)?;
            let out_dim = spec.out_dims.as_ref().map_or(0, |o| o.value);
            Ok(vmap::vmap(&f, &dims, out_dim))
        }
        Kind::Jvp => args::argnums(spec, &f, errs)
            .map(|(a, _)| jvp::jvp(&f, &a))
            .ok_or(String::new()),
        Kind::Grad | Kind::Jacrev | Kind::Jacfwd | Kind::Hessian | Kind::ValueAndGrad => {
            let (a, tuple) = args::argnums(spec, &f, errs)?;
            match spec.kind {
                Kind::Grad => jac::grad(&f, &a, tuple),
                Kind::Jacrev => jac::jacrev(&f, &a, tuple),
                Kind::Jacfwd => jac::jacfwd(&f, &a, tuple),
                Kind::ValueAndGrad => jac::value_and_grad(&f, &a, tuple),
                _ => jac::hessian(&f, &a, tuple),
            }
        }
        Kind::Vjp | Kind::Linearize | Kind::Jacobian => {
            Err(format!("{} is emitted separately", spec.kind.name()))
        }
    };
    let result = result.map(|g| match &aux {
        None => g,
        Some(aux) => {
            let arrange = match spec.kind {
                Kind::Jvp => aux::append,
                Kind::ValueAndGrad => aux::with_value,
                _ => aux::pair,
            };
            aux::attach(g, aux, arrange)
        }
    });
    match result {
        Ok(mut f) => {
            opt::optimize(&mut f.eqns, &mut f.outs);
            checked(f, spec.span, errs)
        }
        Err(msg) => {
            if !msg.is_empty() {
                errs.at(blame, msg);
            }
            None
        }
    }
}

/// `f` if it verifies, else an internal error at `span`.
pub(crate) fn checked(f: Func, span: Span, errs: &mut Errors) -> Option<Func> {
    match verify::func(&f) {
        Ok(()) => Some(f),
        Err(e) => {
            errs.at(
                span,
                format!(
                    "transforms: internal error (please report): {e}\n{}",
                    print::func(&f)
                ),
            );
            None
        }
    }
}

/// The function the transform `spec` applies to: the annotated function,
/// or its nested transform.
fn inner_func(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<Func> {
    match &spec.inner {
        Some(inner) if inner.kind.outermost_only() => {
            errs.at(inner.span, nested_error(inner.kind));
            None
        }
        Some(inner) => build(cx, inner, inner.span, errs),
        None => Some(cx.base().clone()),
    }
}

pub(crate) fn params_tokens(f: &Func) -> Vec<TokenStream> {
    f.params
        .iter()
        .map(|p| {
            let (n, t) = (&p.name, &p.ty);
            quote!(#n: #t)
        })
        .collect()
}

pub(crate) fn param_env(f: &Func) -> HashMap<crate::ir::Var, Operand> {
    f.params
        .iter()
        .filter_map(|p| {
            let n = &p.name;
            p.var().map(|v| (v, Operand::Ref(quote!(#n))))
        })
        .collect()
}

fn generate(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<TokenStream> {
    if let Err(e) = verify::func(cx.base()) {
        errs.at(
            spec.span,
            format!("transforms: internal error (please report): {e}"),
        );
        return None;
    }
    match spec.kind {
        Kind::Vjp => return objects::vjp_items(cx, spec, errs),
        Kind::Linearize => return objects::linearize_items(cx, spec, errs),
        Kind::Jacobian => return jacobian::items(cx, spec, errs),
        Kind::Vmap | Kind::Jacrev if spec.chunk_size.is_some() => {
            return chunk::items(cx, spec, errs);
        }
        _ => {}
    }
    let f = build(cx, spec, cx.lowered.ret_span, errs)?;
    Some(plain_fn(cx, &f, TokenStream::new()))
}

/// The generated function computing `f`, with `prelude` (items) first.
fn plain_fn(cx: &Cx, f: &Func, prelude: TokenStream) -> TokenStream {
    let (name, doc, vis) = (&cx.name, &cx.doc, &cx.item.vis);
    let keep_alive = cx.keep();
    let params = params_tokens(f);
    let mut env = param_env(f);
    let body = codegen::stmts(&f.eqns, &f.outs, &mut env);
    let values = codegen::take(&env, &f.outs);
    let ret_val = codegen::tree_value(&f.tree, &values);
    let ret_ty = codegen::tree_type(&f.tree, cx.tensor_ty());
    quote! {
        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> #ret_ty {
            #keep_alive
            #prelude
            #body
            #ret_val
        }
    }
}

pub(crate) fn camel(name: &Ident) -> Ident {
    let s: String = name
        .to_string()
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    Ident::new(&s, name.span())
}
