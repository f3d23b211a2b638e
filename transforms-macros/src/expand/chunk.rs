//! `chunk_size = k` on the outermost `vmap` or `jacrev` (torch.func
//! semantics): the batch, or the identity basis of cotangents, is processed
//! `k` rows at a time and the pieces are concatenated, so the intermediates
//! of one piece are bounded by `k`; the result is the unchunked one.
//!
//! The IR has no loops, so the loop lives in the emitted Rust: a chunked
//! `vmap` calls the unchunked vmapped function (a nested `fn`) on slices of
//! the mapped inputs; a chunked `jacrev` runs the forward program once and
//! then a pullback batched over cotangents on `k` rows of the identity
//! basis at a time.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::quote;

use super::{Cx, args, build, checked, local, operand_func, param_env, params_tokens};
use crate::codegen::{self, Operand};
use crate::errors::Errors;
use crate::ir::{Eqn, Tree, Var};
use crate::opt;
use crate::spec::{Kind, Spec};
use crate::transforms::jac;

pub fn items(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<TokenStream> {
    let k = spec.chunk_size?;
    match spec.kind {
        Kind::Vmap => vmap_items(cx, spec, k, errs),
        _ => jacrev_items(cx, spec, k, errs),
    }
}

/// `env` with every owned local turned into a borrow, so that code emitted
/// inside a loop never moves a value defined outside it.
pub(crate) fn borrowed(env: &HashMap<Var, Operand>) -> HashMap<Var, Operand> {
    env.iter()
        .map(|(v, op)| {
            let op = match op {
                Operand::Owned(id) => Operand::Ref(quote!(&#id)),
                r => r.clone(),
            };
            (*v, op)
        })
        .collect()
}

fn vmap_items(cx: &Cx, spec: &Spec, k: usize, errs: &mut Errors) -> Option<TokenStream> {
    // The unchunked vmap, and the in_dims against the mapped function.
    let g = build(cx, spec, cx.lowered.ret_span, errs)?;
    let (f, _) = operand_func(cx, spec, errs)?;
    let dims = args::in_dims(spec, &f, errs)?;
    let out_dim = spec.out_dims.as_ref().map_or(0, |o| o.value);
    let rt = codegen::rt();
    let tensor_ty = cx.tensor_ty();
    let (name, doc, vis) = (&cx.name, &cx.doc, &cx.item.vis);
    let keep_alive = cx.keep();
    let params = params_tokens(&g);
    // The unchunked function returns its outputs as a flat tuple.
    let mut env = param_env(&g);
    let body = codegen::stmts(&g.eqns, &g.outs, &mut env);
    let values = codegen::take(&env, &g.outs);
    let flat_ty = g.outs.iter().map(|_| tensor_ty);
    let inner = local("__transforms_unchunked");
    let (n, kk, s, l) = (local("n"), local("k"), local("s"), local("l"));
    let piece = local("piece");
    let names: Vec<&syn::Ident> = g.params.iter().map(|p| &p.name).collect();
    let mapped: Vec<TokenStream> = g
        .params
        .iter()
        .zip(&dims)
        .filter_map(|(p, d)| d.map(|d| (&p.name, d)))
        .map(|(p, d)| quote!((#p, #d)))
        .collect();
    let sliced: Vec<TokenStream> = g
        .params
        .iter()
        .zip(&dims)
        .map(|(p, d)| {
            let p = &p.name;
            match d {
                Some(d) => {
                    let d = *d;
                    quote!(&#rt::ops::chunk_rows(#p, #d, #s, #l))
                }
                None => quote!(#p),
            }
        })
        .collect();
    let pieces: Vec<syn::Ident> = (0..g.outs.len())
        .map(|i| local(&format!("pieces{i}")))
        .collect();
    let outs: Vec<syn::Ident> = (0..g.outs.len())
        .map(|i| local(&format!("out{i}")))
        .collect();
    let idx = (0..g.outs.len()).map(syn::Index::from);
    let out_vals: Vec<TokenStream> = outs.iter().map(|o| quote!(#o)).collect();
    let ret_val = codegen::tree_value(&g.tree, &out_vals);
    let ret_ty = codegen::tree_type(&g.tree, tensor_ty);
    Some(quote! {
        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> #ret_ty {
            #keep_alive
            #[allow(unused_variables, clippy::all)]
            fn #inner(#(#params),*) -> (#(#flat_ty,)*) {
                #body
                (#(#values,)*)
            }
            let #n = #rt::ops::chunk_batch_len(&[#(#mapped),*]);
            let #kk: usize = #k;
            let (#(#outs,)*) = if #n <= #kk {
                #inner(#(#names),*)
            } else {
                #(let mut #pieces = ::std::vec::Vec::new();)*
                let mut #s = 0usize;
                while #s < #n {
                    let #l = ::core::cmp::min(#kk, #n - #s);
                    let #piece = #inner(#(#sliced),*);
                    #(#pieces.push(#piece.#idx);)*
                    #s += #l;
                }
                (#(#rt::ops::concat_chunks(&#pieces, #out_dim),)*)
            };
            #ret_val
        }
    })
}

fn jacrev_items(cx: &Cx, spec: &Spec, k: usize, errs: &mut Errors) -> Option<TokenStream> {
    let (f, aux) = operand_func(cx, spec, errs)?;
    let (a, tuple) = args::argnums(spec, &f, errs)?;
    let mut parts = match jac::jacrev_chunks(&f, &a) {
        Ok(p) => p,
        Err(e) => {
            errs.at(cx.lowered.ret_span, e);
            return None;
        }
    };
    let n_outs = parts.n_outs;
    let n_res = parts.residuals.len();
    if let Some(aux) = &aux {
        parts.forward.outs.extend(aux.vars.iter().copied());
    }
    let mut fw = parts.forward;
    opt::optimize(&mut fw.eqns, &mut fw.outs);
    // Verified with a tree over every output (outputs, residuals, aux).
    fw.tree = Tree::Tuple((0..fw.outs.len()).map(Tree::Leaf).collect());
    let fw = checked(fw, spec.span, errs)?;
    let rt = codegen::rt();
    let tensor_ty = cx.tensor_ty();
    let (name, doc, vis) = (&cx.name, &cx.doc, &cx.item.vis);
    let keep_alive = cx.keep();
    let params = params_tokens(&f);
    let mut env = param_env(&f);
    let forward_body = codegen::stmts(&fw.eqns, &fw.outs, &mut env);
    // Locals holding the outputs and residuals of the forward run.
    let held: Vec<syn::Ident> = (0..n_outs + n_res)
        .map(|i| local(&format!("held{i}")))
        .collect();
    let held_vals: Vec<TokenStream> = fw.outs[..n_outs + n_res]
        .iter()
        .map(|v| {
            let r = codegen::borrow(&env, *v);
            quote!(::core::clone::Clone::clone(#r))
        })
        .collect();
    let mut loop_env: HashMap<Var, Operand> = borrowed(&env);
    for (v, h) in f.outs.iter().chain(&parts.residuals).zip(&held) {
        loop_env.insert(*v, Operand::Ref(quote!(&#h)));
    }
    let aux_val = aux.as_ref().map(|aux| {
        let vals = codegen::take(&env, &fw.outs[n_outs + n_res..]);
        codegen::tree_value(&aux.tree, &vals)
    });
    let (m, kk, s, l, ct) = (local("m"), local("k"), local("s"), local("l"), local("ct"));
    let mut jacs = Vec::new(); // per output, per argnum
    let mut loops = TokenStream::new();
    for (j, (ct_var, body)) in parts.per_out.iter().enumerate() {
        let out = &held[j];
        // Equations that do not read the cotangent run once, before the loop.
        let mut dep: HashSet<Var> = HashSet::from([*ct_var]);
        let (variant, invariant): (Vec<Eqn>, Vec<Eqn>) = body.eqns.iter().cloned().partition(|e| {
            let v = e.ins.iter().any(|i| dep.contains(i));
            if v {
                dep.insert(e.out);
            }
            v
        });
        let needed: Vec<Var> = variant
            .iter()
            .flat_map(|e| e.ins.iter().copied())
            .chain(body.outs.iter().copied())
            .collect();
        let mut env = loop_env.clone();
        let hoisted = codegen::stmts(&invariant, &needed, &mut env);
        let mut env = borrowed(&env);
        env.insert(*ct_var, Operand::Ref(quote!(&#ct)));
        let stmts = codegen::stmts(&variant, &body.outs, &mut env);
        let vals = codegen::take(&env, &body.outs);
        let pieces: Vec<syn::Ident> = (0..a.len())
            .map(|i| local(&format!("pieces{j}_{i}")))
            .collect();
        let results: Vec<syn::Ident> = (0..a.len())
            .map(|i| local(&format!("jac{j}_{i}")))
            .collect();
        loops.extend(quote! {
            #hoisted
            #(let mut #pieces = ::std::vec::Vec::new();)*
            let #m = #out.numel();
            let mut #s = 0usize;
            loop {
                let #l = ::core::cmp::min(#kk, #m - #s);
                let #ct = #rt::ops::basis_rows(&#out, #s, #l);
                #stmts
                #(#pieces.push(#vals);)*
                #s += #l;
                if #s >= #m {
                    break;
                }
            }
            #(let #results = #rt::ops::unflatten_like(
                &#rt::ops::concat_chunks(&#pieces, 0), 0, &#out, 0);)*
        });
        jacs.push(results);
    }
    // Arrange as jacrev does: per output, one tensor or a tuple per argnum.
    let mut values = Vec::new();
    let tree = f.tree.map_leaves(&mut |o| {
        let mut leaf = |id: &syn::Ident| {
            values.push(quote!(#id));
            Tree::Leaf(values.len() - 1)
        };
        if tuple {
            Tree::Tuple(jacs[o].iter().map(&mut leaf).collect())
        } else {
            leaf(&jacs[o][0])
        }
    });
    let jac_val = codegen::tree_value(&tree, &values);
    let jac_ty = codegen::tree_type(&tree, tensor_ty);
    let (ret_val, ret_ty) = match (aux_val, &aux) {
        (Some(v), Some(aux)) => {
            let t = codegen::tree_type(&aux.tree, tensor_ty);
            (quote!((#jac_val, #v)), quote!((#jac_ty, #t)))
        }
        _ => (jac_val, jac_ty),
    };
    Some(quote! {
        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> #ret_ty {
            #keep_alive
            #forward_body
            #(let #held = #held_vals;)*
            let #kk: usize = #k;
            #loops
            #ret_val
        }
    })
}
