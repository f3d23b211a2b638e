//! Transforms that return an object beside the output: `vjp` (a pullback)
//! and `linearize` (the linear map of a JVP). Each emits a struct holding
//! the residuals of one forward run (and the scalar parameters), the
//! forward function `{fn}_{transform}` and the struct's methods.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use super::{Cx, args, camel, operand_func, param_env, params_tokens};
use crate::codegen::{self, Operand};
use crate::errors::Errors;
use crate::ir::{Func, Var};
use crate::opt;
use crate::spec::Spec;
use crate::transforms::aux::Aux;
use crate::transforms::{Body, jac, jvp};

/// The forward half shared by `vjp` and `linearize`: the function's
/// parameters, body, output value and type, the residual field values and
/// the aux value (if any).
struct Forward {
    params: Vec<TokenStream>,
    body: TokenStream,
    out_val: TokenStream,
    out_ty: TokenStream,
    fields: Vec<Ident>,
    res_vals: Vec<TokenStream>,
    aux: Option<(TokenStream, TokenStream)>,
}

/// Emits `forward` (outputs: `f`'s, then the residuals), with the aux
/// vars appended to its outputs.
fn forward(
    cx: &Cx,
    f: &Func,
    mut forward: Func,
    n_outs: usize,
    n_res: usize,
    aux: Option<&Aux>,
) -> Forward {
    if let Some(aux) = aux {
        forward.outs.extend(aux.vars.iter().copied());
    }
    opt::optimize(&mut forward.eqns, &mut forward.outs);
    let mut env = param_env(f);
    let body = codegen::stmts(&forward.eqns, &forward.outs, &mut env);
    let values = codegen::take(&env, &forward.outs);
    let out_val = codegen::tree_value(&f.tree, &values[..n_outs]);
    let out_ty = codegen::tree_type(&f.tree, cx.tensor_ty());
    let fields = (0..n_res).map(|i| format_ident!("r{}", i)).collect();
    let res_vals = values[n_outs..n_outs + n_res].to_vec();
    let aux = aux.map(|a| {
        (
            codegen::tree_value(&a.tree, &values[n_outs + n_res..]),
            codegen::tree_type(&a.tree, cx.tensor_ty()),
        )
    });
    Forward {
        params: params_tokens(f),
        body,
        out_val,
        out_ty,
        fields,
        res_vals,
        aux,
    }
}

/// The scalar parameters of `f` (struct fields, copied into each method).
fn scalars(f: &Func) -> (Vec<&Ident>, Vec<&TokenStream>) {
    f.params
        .iter()
        .filter(|p| p.var().is_none())
        .map(|p| (&p.name, &p.ty))
        .unzip()
}

/// A method body evaluating `body` with the residuals read from `self`
/// and `inputs[i]` bound to the argument `names[i]`.
fn method(
    f: &Func,
    residuals: &[Var],
    fields: &[Ident],
    inputs: &[Var],
    names: &[Ident],
    body: &Body,
    ret: impl FnOnce(&[TokenStream]) -> TokenStream,
) -> TokenStream {
    let mut env: HashMap<_, _> = residuals
        .iter()
        .zip(fields)
        .map(|(v, f)| (*v, Operand::Ref(quote!(&self.#f))))
        .collect();
    for (c, n) in inputs.iter().zip(names) {
        env.insert(*c, Operand::Ref(quote!(#n)));
    }
    let stmts = codegen::stmts(&body.eqns, &body.outs, &mut env);
    let vals = codegen::take(&env, &body.outs);
    let ret = ret(&vals);
    let (sn, _) = scalars(f);
    quote!(#(let #sn = self.#sn;)* #stmts #ret)
}

pub fn vjp_items(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<TokenStream> {
    let (f, aux) = operand_func(cx, spec, errs)?;
    let (a, tuple) = args::argnums(spec, &f, errs)?;
    let mut parts = match jac::vjp(&f, &a) {
        Ok(p) => p,
        Err(e) => {
            errs.at(spec.span, e);
            return None;
        }
    };
    parts.pullback.optimize();
    parts.pullback_batched.optimize();
    let tensor_ty = cx.tensor_ty();
    let (name, vis) = (&cx.name, &cx.item.vis);
    let keep_alive = cx.keep();
    let struct_name = camel(name);
    let fw = forward(
        cx,
        &f,
        parts.forward,
        parts.n_outs,
        parts.residuals.len(),
        aux.as_ref(),
    );
    let ct_names: Vec<Ident> = (0..parts.cts.len())
        .map(|i| format_ident!("ct{}", i))
        .collect();
    let ret = |vals: &[TokenStream]| {
        if tuple {
            quote!((#(#vals,)*))
        } else {
            vals[0].clone()
        }
    };
    let m = |body| {
        method(
            &f,
            &parts.residuals,
            &fw.fields,
            &parts.cts,
            &ct_names,
            body,
            ret,
        )
    };
    let call_body = m(&parts.pullback);
    let vmap_body = m(&parts.pullback_batched);
    let ret_ty = if tuple {
        let t = a.iter().map(|_| tensor_ty);
        quote!((#(#t,)*))
    } else {
        tensor_ty.clone()
    };
    let struct_doc =
        format!(" The pullback of [`{name}`]: maps output cotangents to input cotangents.");
    let ct_doc = " One cotangent per output of the function, each shaped like that output.";
    let vmap_doc =
        " `call` mapped over dim 0 of each cotangent (e.g. the rows of an identity matrix).";
    let (sn, st) = scalars(&f);
    let Forward {
        params,
        body,
        out_val,
        out_ty,
        fields,
        res_vals,
        aux,
    } = fw;
    let (aux_val, aux_ty) = aux.map_or((quote!(), quote!()), |(v, t)| (quote!(, #v), quote!(, #t)));
    let doc = &cx.doc;
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
        #vis fn #name(#(#params),*) -> (#out_ty, #struct_name #aux_ty) {
            #keep_alive
            #body
            (#out_val, #struct_name { #(#fields: #res_vals,)* #(#sn,)* } #aux_val)
        }
    })
}

pub fn linearize_items(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<TokenStream> {
    let (f, aux) = operand_func(cx, spec, errs)?;
    let (a, _) = args::argnums(spec, &f, errs)?;
    let parts = jvp::linearize_parts(&f, &a);
    let tensor_ty = cx.tensor_ty();
    let (name, vis) = (&cx.name, &cx.item.vis);
    let keep_alive = cx.keep();
    let struct_name = camel(name);
    let fw = forward(
        cx,
        &f,
        parts.forward,
        parts.n_outs,
        parts.residuals.len(),
        aux.as_ref(),
    );
    let tangent_names: Vec<Ident> = a
        .iter()
        .map(|&i| format_ident!("{}_tangent", f.params[i].name))
        .collect();
    let call_body = method(
        &f,
        &parts.residuals,
        &fw.fields,
        &parts.tangents,
        &tangent_names,
        &parts.linear,
        |vals| codegen::tree_value(&f.tree, vals),
    );
    let struct_doc = format!(
        " The linear map of [`{name}`]: tangents of the differentiated arguments to the tangent of the output, evaluated from stored residuals without recomputing the function."
    );
    let call_doc = " The output tangent (the JVP at the linearization point): one tangent per differentiated argument, in argnums order, each shaped like that argument.";
    let (sn, st) = scalars(&f);
    let Forward {
        params,
        body,
        out_val,
        out_ty,
        fields,
        res_vals,
        aux,
    } = fw;
    let (aux_val, aux_ty) = aux.map_or((quote!(), quote!()), |(v, t)| (quote!(, #v), quote!(, #t)));
    let doc = &cx.doc;
    Some(quote! {
        #[doc = #struct_doc]
        #[allow(dead_code)]
        #vis struct #struct_name {
            #(#fields: #tensor_ty,)*
            #(#sn: #st,)*
        }

        #[allow(unused_variables, clippy::all)]
        impl #struct_name {
            #[doc = #call_doc]
            pub fn call(&self, #(#tangent_names: &#tensor_ty),*) -> #out_ty {
                #call_body
            }
        }

        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> (#out_ty, #struct_name #aux_ty) {
            #keep_alive
            #body
            (#out_val, #struct_name { #(#fields: #res_vals,)* #(#sn,)* } #aux_val)
        }
    })
}
