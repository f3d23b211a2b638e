//! `#[jacobian(argnums = ..)]`: the Jacobian by forward or reverse mode,
//! chosen at run time from the shapes. The function's primal equations run
//! once; then forward mode (`jacfwd`) when the differentiated inputs have
//! fewer elements in all than the outputs, reverse mode (`jacrev`)
//! otherwise. Both branches return exactly what `jacrev` returns.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::chunk::borrowed;
use super::{Cx, args, build, local, operand_func, param_env, params_tokens};
use crate::codegen::{self, Operand};
use crate::errors::Errors;
use crate::ir::{Eqn, Func, Var};
use crate::opt;
use crate::spec::{Kind, Spec};

/// Whether `a` computes exactly what the primal equation `p` does.
fn same(a: &Eqn, p: &Eqn) -> bool {
    a.out == p.out && a.ins == p.ins && a.nb == p.nb && a.prim.name() == p.prim.name()
}

/// One branch: `g`'s equations that the primal part has not already run.
fn branch(g: &Func, primal: &HashMap<Var, &Eqn>, env: &HashMap<Var, Operand>) -> TokenStream {
    let rest: Vec<Eqn> = g
        .eqns
        .iter()
        .filter(|e| !primal.get(&e.out).is_some_and(|p| same(e, p)))
        .cloned()
        .collect();
    let mut env = borrowed(env);
    let body = codegen::stmts(&rest, &g.outs, &mut env);
    let values = codegen::take(&env, &g.outs);
    let ret = codegen::tree_value(&g.tree, &values);
    quote!({ #body #ret })
}

pub fn items(cx: &Cx, spec: &Spec, errs: &mut Errors) -> Option<TokenStream> {
    let (f, aux) = operand_func(cx, spec, errs)?;
    let (a, _) = args::argnums(spec, &f, errs)?;
    let mode = |kind| Spec {
        kind,
        ..spec.clone()
    };
    let fwd = build(cx, &mode(Kind::Jacfwd), cx.lowered.ret_span, errs)?;
    let rev = build(cx, &mode(Kind::Jacrev), cx.lowered.ret_span, errs)?;
    // The primal part: f's equations that compute its outputs and aux,
    // every value kept (no fusion), names unchanged.
    let mut live = f.outs.clone();
    live.extend(aux.iter().flat_map(|x| x.vars.iter().copied()));
    let mut eqns = f.eqns.clone();
    opt::dce(&mut eqns, &live);
    let all: Vec<Var> = eqns.iter().map(|e| e.out).collect();
    let mut env = param_env(&f);
    let primal_body = codegen::stmts(&eqns, &all, &mut env);
    let primal: HashMap<Var, &Eqn> = eqns.iter().map(|e| (e.out, e)).collect();
    let fwd_body = branch(&fwd, &primal, &env);
    let rev_body = branch(&rev, &primal, &env);
    let rt = codegen::rt();
    let ins: Vec<TokenStream> = a
        .iter()
        .map(|&i| {
            let n = &f.params[i].name;
            quote!(#n)
        })
        .collect();
    let outs: Vec<TokenStream> = f.outs.iter().map(|v| codegen::borrow(&env, *v)).collect();
    let (name, doc, vis) = (&cx.name, &cx.doc, &cx.item.vis);
    let keep_alive = cx.keep();
    let params = params_tokens(&f);
    let ret_ty = codegen::tree_type(&rev.tree, cx.tensor_ty());
    let forward = local("forward");
    Some(quote! {
        #[doc = #doc]
        #[allow(unused_variables, clippy::all)]
        #vis fn #name(#(#params),*) -> #ret_ty {
            #keep_alive
            #primal_body
            let #forward = #rt::ops::total_numel(&[#(#ins),*]) < #rt::ops::total_numel(&[#(#outs),*]);
            if #forward #fwd_body else #rev_body
        }
    })
}
