//! One attribute's expansion: parse, lower, transform, optimise, emit.
//! On any error the original function is emitted unchanged beside the
//! `compile_error!`s, so the user sees every error and nothing else breaks.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Ident, ItemFn};

use crate::codegen::{self, Operand};
use crate::errors::Errors;
use crate::handoff::{self, Job, State};
use crate::ir::{Func, ParamKind, print, verify};
use crate::lower::{Lowered, lower};
use crate::spec::{self, InDims, Kind, Spec};
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
                item: item_fn.clone(),
            },
            State::default(),
        ),
        Err(e) => e.into_compile_error(),
    };
    quote!(#item_fn #rest)
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
    let generated = lower(&body, state, &mut errs)
        .and_then(|l| generate(&spec, &written, item, &l, keep_alive, &mut errs));
    errs.into_result()?;
    generated.ok_or_else(|| {
        syn::Error::new(
            kind_id.span(),
            "transforms: internal error: no output and no error",
        )
    })
}

fn kinds(spec: &Spec) -> Vec<&'static str> {
    let mut names = vec![spec.kind.name()];
    if let Some(inner) = &spec.inner {
        names.extend(kinds(inner));
    }
    names
}

/// Resolves `argnums` against `f`'s parameters.
fn argnums(spec: &Spec, f: &Func, errs: &mut Errors) -> Option<(Vec<usize>, bool)> {
    let n = f.params.len() as isize;
    let Some(a) = &spec.argnums else {
        return match f.params.first() {
            Some(p) if p.var().is_some() => Some((vec![0], false)),
            Some(p) => {
                errs.at(
                    p.name.span(),
                    format!(
                        "argnums defaults to 0, but parameter `{}` is not a tensor; set `argnums`",
                        p.name
                    ),
                );
                None
            }
            None => {
                errs.at(spec.span, "the function has no parameters to differentiate");
                None
            }
        };
    };
    if a.items.is_empty() && a.tuple {
        errs.at(a.span, "argnums must name at least one parameter");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for it in &a.items {
        let i = if it.value < 0 { it.value + n } else { it.value };
        if i < 0 || i >= n {
            errs.spanned(
                &it.tokens,
                format!(
                    "argnums {} is out of range: the function has {n} parameter(s)",
                    it.value
                ),
            );
            ok = false;
            continue;
        }
        let i = i as usize;
        if out.contains(&i) {
            errs.spanned(&it.tokens, format!("argnums names parameter {i} twice"));
            ok = false;
            continue;
        }
        if let ParamKind::Scalar = f.params[i].kind {
            errs.spanned(
                &it.tokens,
                format!(
                    "argnums {} names `{}`, which is not a tensor (`&Tensor`) parameter",
                    it.value, f.params[i].name
                ),
            );
            ok = false;
            continue;
        }
        out.push(i);
    }
    ok.then_some((out, a.tuple))
}

fn in_dims(spec: &Spec, f: &Func, errs: &mut Errors) -> Option<Vec<Option<isize>>> {
    let dims: Vec<Option<isize>> = match &spec.in_dims {
        None | Some(InDims::All(_)) => {
            let d = match &spec.in_dims {
                Some(InDims::All(i)) => i.value,
                _ => 0,
            };
            if let Some(p) = f.params.iter().find(|p| p.var().is_none()) {
                let msg = format!(
                    "in_dims = {d} maps every argument, but `{}` is a scalar; give a tuple with `None` for it",
                    p.name
                );
                match &spec.in_dims {
                    Some(InDims::All(i)) => errs.spanned(&i.tokens, msg),
                    _ => errs.at(p.name.span(), msg),
                }
                return None;
            }
            f.params.iter().map(|_| Some(d)).collect()
        }
        Some(InDims::Each(items, span)) => {
            if items.len() != f.params.len() {
                errs.at(
                    *span,
                    format!(
                        "in_dims has {} entries but the function has {} parameter(s)",
                        items.len(),
                        f.params.len()
                    ),
                );
                return None;
            }
            let mut ok = true;
            for ((d, s), p) in items.iter().zip(&f.params) {
                if d.is_some() && p.var().is_none() {
                    errs.at(
                        *s,
                        format!("`{}` is a scalar and cannot be mapped: use `None`", p.name),
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
            items.iter().map(|(d, _)| *d).collect()
        }
    };
    if dims.iter().all(Option::is_none) {
        let span = match &spec.in_dims {
            Some(InDims::Each(_, span)) => *span,
            _ => spec.span,
        };
        errs.at(
            span,
            "vmap needs at least one mapped argument (in_dims are all None)",
        );
        return None;
    }
    Some(dims)
}

const VJP_NESTED: &str =
    "vjp returns a pullback object and cannot be nested inside another transform; put it outermost";

/// Builds the IR function for `spec` applied to `base` (inner first).
/// Errors about the function itself go to `blame` (the outermost transform
/// blames the function's return type, a nested one its own name).
fn build(spec: &Spec, base: &Func, blame: Span, errs: &mut Errors) -> Option<Func> {
    let f = inner_func(spec, base, errs)?;
    let result = match spec.kind {
        Kind::Vmap => {
            let dims = in_dims(spec, &f, errs)?;
            let out_dim = spec.out_dims.as_ref().map_or(0, |o| o.value);
            Ok(vmap::vmap(&f, &dims, out_dim))
        }
        Kind::Jvp => argnums(spec, &f, errs)
            .map(|(a, _)| jvp::jvp(&f, &a))
            .ok_or(String::new()),
        Kind::Grad | Kind::Jacrev | Kind::Jacfwd | Kind::Hessian => {
            let (a, tuple) = argnums(spec, &f, errs)?;
            match spec.kind {
                Kind::Grad => jac::grad(&f, &a, tuple),
                Kind::Jacrev => jac::jacrev(&f, &a, tuple),
                Kind::Jacfwd => jac::jacfwd(&f, &a, tuple),
                _ => jac::hessian(&f, &a, tuple),
            }
        }
        Kind::Vjp => Err("vjp is emitted separately".to_string()),
    };
    match result {
        Ok(mut f) => {
            opt::optimize(&mut f.eqns, &mut f.outs);
            if let Err(e) = verify::func(&f) {
                errs.at(
                    spec.span,
                    format!(
                        "transforms: internal error (please report): {e}\n{}",
                        print::func(&f)
                    ),
                );
                return None;
            }
            Some(f)
        }
        Err(msg) => {
            if !msg.is_empty() {
                errs.at(blame, msg);
            }
            None
        }
    }
}

/// The function the transform `spec` applies to: `base`, or its nested transform.
fn inner_func(spec: &Spec, base: &Func, errs: &mut Errors) -> Option<Func> {
    match &spec.inner {
        Some(inner) if inner.kind == Kind::Vjp => {
            errs.at(inner.span, VJP_NESTED);
            None
        }
        Some(inner) => build(inner, base, inner.span, errs),
        None => Some(base.clone()),
    }
}

fn params_tokens(f: &Func) -> Vec<TokenStream> {
    f.params
        .iter()
        .map(|p| {
            let (n, t) = (&p.name, &p.ty);
            quote!(#n: #t)
        })
        .collect()
}

fn param_env(f: &Func) -> HashMap<crate::ir::Var, Operand> {
    f.params
        .iter()
        .filter_map(|p| {
            let n = &p.name;
            p.var().map(|v| (v, Operand::Ref(quote!(#n))))
        })
        .collect()
}

fn generate(
    spec: &Spec,
    written: &str,
    item: &ItemFn,
    lowered: &Lowered,
    keep_alive: bool,
    errs: &mut Errors,
) -> Option<(TokenStream, Ident)> {
    let base = &lowered.func;
    if let Err(e) = verify::func(base) {
        errs.at(
            spec.span,
            format!("transforms: internal error (please report): {e}"),
        );
        return None;
    }
    let fn_name = &item.sig.ident;
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| format_ident!("{}_{}", fn_name, kinds(spec).join("_")));
    let vis = &item.vis;
    let doc = format!(" `{written}` of [`{fn_name}`], generated at compile time by `transforms`.");
    if spec.kind == Kind::Vjp {
        let keep = keep_alive.then(|| quote!(let _ = #fn_name;));
        return vjp_items(item, spec, base, lowered, &name, &doc, keep, errs).map(|t| (t, name));
    }
    let f = build(spec, base, lowered.ret_span, errs)?;
    let params = params_tokens(&f);
    let mut env = param_env(&f);
    let body = codegen::stmts(&f.eqns, &f.outs, &mut env);
    let values = codegen::take(&env, &f.outs);
    let ret_val = codegen::tree_value(&f.tree, &values);
    let ret_ty = codegen::tree_type(&f.tree, &lowered.tensor_ty);
    // The original function counts as used when its derivative is.
    let keep = keep_alive.then(|| quote!(let _ = #fn_name;));
    let items = quote! {
        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> #ret_ty {
            #keep
            #body
            #ret_val
        }
    };
    Some((items, name))
}

fn camel(name: &Ident) -> Ident {
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

#[allow(clippy::too_many_arguments)]
fn vjp_items(
    item: &ItemFn,
    spec: &Spec,
    base: &Func,
    lowered: &Lowered,
    name: &Ident,
    doc: &str,
    keep: Option<TokenStream>,
    errs: &mut Errors,
) -> Option<TokenStream> {
    let f = inner_func(spec, base, errs)?;
    let (a, tuple) = argnums(spec, &f, errs)?;
    let mut parts = match jac::vjp(&f, &a) {
        Ok(p) => p,
        Err(e) => {
            errs.at(spec.span, e);
            return None;
        }
    };
    let tensor_ty = &lowered.tensor_ty;
    let struct_name = camel(name);
    let vis = &item.vis;
    opt::optimize(&mut parts.forward.eqns, &mut parts.forward.outs);
    opt::optimize(&mut parts.pullback.eqns, &mut parts.pullback.outs);
    opt::optimize(
        &mut parts.pullback_batched.eqns,
        &mut parts.pullback_batched.outs,
    );
    // Forward function.
    let params = params_tokens(&f);
    let mut env = param_env(&f);
    let body = codegen::stmts(&parts.forward.eqns, &parts.forward.outs, &mut env);
    let values = codegen::take(&env, &parts.forward.outs);
    let out_val = codegen::tree_value(&f.tree, &values[..parts.n_outs]);
    let out_ty = codegen::tree_type(&f.tree, tensor_ty);
    let fields: Vec<Ident> = (0..parts.residuals.len())
        .map(|i| format_ident!("r{}", i))
        .collect();
    let res_vals = &values[parts.n_outs..];
    let scalars: Vec<(&Ident, &TokenStream)> = f
        .params
        .iter()
        .filter(|p| p.var().is_none())
        .map(|p| (&p.name, &p.ty))
        .collect();
    let (sn, st): (Vec<_>, Vec<_>) = scalars.iter().copied().unzip();
    // Pullback methods.
    let ct_names: Vec<Ident> = (0..parts.cts.len())
        .map(|i| format_ident!("ct{}", i))
        .collect();
    let method = |body: &jac::Body, ct_names: &[Ident]| {
        let mut env: HashMap<_, _> = parts
            .residuals
            .iter()
            .zip(&fields)
            .map(|(v, f)| (*v, Operand::Ref(quote!(&self.#f))))
            .collect();
        for (c, n) in parts.cts.iter().zip(ct_names) {
            env.insert(*c, Operand::Ref(quote!(#n)));
        }
        let stmts = codegen::stmts(&body.eqns, &body.outs, &mut env);
        let vals = codegen::take(&env, &body.outs);
        let ret = if tuple {
            quote!((#(#vals,)*))
        } else {
            vals[0].clone()
        };
        quote!(#(let #sn = self.#sn;)* #stmts #ret)
    };
    let call_body = method(&parts.pullback, &ct_names);
    let vmap_body = method(&parts.pullback_batched, &ct_names);
    let ret_ty = if tuple {
        let t = a.iter().map(|_| tensor_ty);
        quote!((#(#t,)*))
    } else {
        tensor_ty.clone()
    };
    let struct_doc =
        format!(" The pullback of [`{name}`]: maps output cotangents to input cotangents.");
    let fn_name = name;
    let ct_doc = " One cotangent per output of the function, each shaped like that output.";
    let vmap_doc =
        " `call` mapped over dim 0 of each cotangent (e.g. the rows of an identity matrix).";
    Some(quote! {
        #[doc = #struct_doc]
        #[allow(dead_code)]
        #vis struct #struct_name {
            #(#fields: #tensor_ty,)*
            #(#sn: #st,)*
        }

        #[allow(unused_variables, clippy::all)]
        impl #struct_name {
            #[doc = " The input cotangent(s) for the differentiated arguments."]
            #[doc = #ct_doc]
            pub fn call(&self, #(#ct_names: &#tensor_ty),*) -> #ret_ty {
                #call_body
            }

            #[doc = #vmap_doc]
            pub fn vmap(&self, #(#ct_names: &#tensor_ty),*) -> #ret_ty {
                #vmap_body
            }
        }

        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #fn_name(#(#params),*) -> (#out_ty, #struct_name) {
            #keep
            #body
            (#out_val, #struct_name { #(#fields: #res_vals,)* #(#sn,)* })
        }
    })
}
