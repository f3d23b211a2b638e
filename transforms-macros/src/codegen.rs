//! Emission: IR equations to Rust statements calling the runtime.
//!
//! Internal variables get `Span::mixed_site()` so they can never clash with
//! the user's names; each call carries the span of the user's expression it
//! came from. Runtime items are reached through one private path.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::dense_fold::DenseJac;
use crate::fuse;
use crate::ir::{Eqn, Tree, Var};
use crate::tview::Views;

/// The runtime's private path, as seen from the user's crate.
pub fn rt() -> TokenStream {
    quote!(::transforms::__private)
}

/// How generated code reaches a var's tensor.
#[derive(Clone)]
pub enum Operand {
    /// An expression of type `&Tensor` (a parameter, a field of `self`).
    Ref(TokenStream),
    /// A local owned `Tensor`.
    Owned(Ident),
}

impl Operand {
    fn borrow(&self) -> TokenStream {
        match self {
            Operand::Ref(e) => e.clone(),
            Operand::Owned(id) => quote!(&#id),
        }
    }
}

pub fn var_ident(v: Var) -> Ident {
    format_ident!("v{}", v.0, span = Span::mixed_site())
}

/// Statements computing `eqns`; records each defined var in `env`.
pub fn stmts(eqns: &[Eqn], outs: &[Var], env: &mut HashMap<Var, Operand>) -> TokenStream {
    emit(eqns, outs, env, &Views::find(eqns, outs), true)
}

/// [`stmts`] with the transposed views of the list `eqns` belongs to; with
/// `dense`, dense layers' Jacobians are grouped.
fn emit(
    eqns: &[Eqn],
    outs: &[Var],
    env: &mut HashMap<Var, Operand>,
    views: &Views,
    dense: bool,
) -> TokenStream {
    emit_after(Vec::new(), eqns, outs, env, views, dense)
}

/// [`emit`] after `prelude`: statements each binding one var (already in
/// `env`), dropped after their last reader as the others are.
pub(crate) fn emit_after(
    prelude: Vec<(TokenStream, Var)>,
    eqns: &[Eqn],
    outs: &[Var],
    env: &mut HashMap<Var, Operand>,
    views: &Views,
    dense: bool,
) -> TokenStream {
    let rt = rt();
    let reads = read_counts(eqns, outs);
    let defined: HashMap<Var, &Eqn> = eqns.iter().map(|e| (e.out, e)).collect();
    let mut emitted: Vec<Stmt> = prelude
        .into_iter()
        .map(|(tokens, v)| Stmt {
            tokens,
            bound: vec![v],
            moved: None,
        })
        .collect();
    for group in fuse::groups(eqns, outs, views, dense) {
        let mut out = TokenStream::new();
        let before: std::collections::HashSet<Var> = env.keys().copied().collect();
        let mut moved = None;
        match group {
            fuse::Group::Single(e) => {
                let args: Vec<TokenStream> = e.ins.iter().map(|v| operand(env, *v)).collect();
                let call = e.prim.call(&rt, &args, e.nb);
                let id = var_ident(e.out);
                out.extend(quote_spanned!(e.span=> let #id = #call;));
                let op = if e.prim.returns_ref() {
                    Operand::Ref(quote!(#id))
                } else {
                    Operand::Owned(id)
                };
                env.insert(e.out, op);
            }
            fuse::Group::Transposed { eqn, w } => {
                let slot = eqn.prim.transposable_input().unwrap_or(0);
                let args: Vec<TokenStream> = eqn
                    .ins
                    .iter()
                    .enumerate()
                    .map(|(i, v)| operand(env, if i == slot { w } else { *v }))
                    .collect();
                let call = eqn.prim.call_transposed(&rt, &args, eqn.nb);
                let id = var_ident(eqn.out);
                out.extend(quote_spanned!(eqn.span=> let #id = #call;));
                env.insert(eqn.out, Operand::Owned(id));
            }
            fuse::Group::LiftUntransposed { eqn, data } => {
                let call = eqn.prim.call(&rt, &[operand(env, data)], eqn.nb);
                let id = var_ident(eqn.out);
                out.extend(quote_spanned!(eqn.span=> let #id = #call;));
                env.insert(eqn.out, Operand::Owned(id));
            }
            fuse::Group::Swapped {
                out: mv,
                prod,
                w,
                refs,
            } => {
                let args = product_args(env, prod, w);
                let refs = refs.map(|v| operand(env, v));
                let nb = proc_macro2::Literal::usize_unsuffixed(prod.nb as usize);
                let call = match &prod.prim {
                    crate::prims::Prim::Diag(d) => {
                        d.call_swapped(&rt, &args, nb, w.is_some(), [&refs[0], &refs[1]])
                    }
                    _ => None,
                };
                let call = call.unwrap_or_else(|| {
                    quote!(::core::compile_error!(
                        "transforms: internal error: swapped a non-product"
                    ))
                });
                let id = var_ident(mv.out);
                out.extend(quote_spanned!(mv.span=> let #id = #call;));
                env.insert(mv.out, Operand::Owned(id));
            }
            fuse::Group::MovedLast {
                out: mv,
                fused,
                dm,
                w,
                bl,
                slot,
                reference,
            } => {
                let call = moved_last(env, &rt, &fused, dm, w, bl, slot, reference);
                let id = var_ident(mv.out);
                out.extend(quote_spanned!(mv.span=> let #id = #call;));
                env.insert(mv.out, Operand::Owned(id));
            }
            fuse::Group::TaChain { fused, ta, w, slot } => {
                let call = ta_chain(env, &rt, &fused, ta, w, slot);
                let id = var_ident(fused.out);
                out.extend(quote_spanned!(fused.span=> let #id = #call;));
                env.insert(fused.out, Operand::Owned(id));
            }
            fuse::Group::DenseJac(d) => {
                out.extend(dense_jac(env, &rt, &d, views));
            }
            fuse::Group::DenseHess(h) => {
                out.extend(dense_hess(env, &rt, &h, views));
            }
            fuse::Group::Rows(g) => {
                // The sum is written over when nothing reads it afterwards.
                let dead = dead_after(env, &defined, outs, &reads, g.acc, 1);
                out.extend(crate::rows::emit(env, &rt, &g, dead));
                env.insert(g.root.out, Operand::Owned(var_ident(g.root.out)));
                moved = dead.then_some(g.acc);
            }
            fuse::Group::Fused(f) => {
                // A leaf that is a temporary of this list which only the
                // chain reads: the chain writes its result over it (when
                // it has the result's shape, checked at run time; a
                // reduction's result seldom has, so others first).
                let dead = |v: &Var| dead_after(env, &defined, outs, &reads, *v, f.reads(*v));
                let reduced = |v: &Var| {
                    let by = defined.get(v);
                    by.is_some_and(|e| matches!(e.prim, crate::prims::Prim::Reduce(_)))
                };
                let dead = (f.leaves.iter().position(|v| dead(v) && !reduced(v)))
                    .or_else(|| f.leaves.iter().position(dead));
                let args: Vec<TokenStream> = f
                    .leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match env.get(v) {
                        Some(Operand::Owned(id)) if Some(i) == dead => quote!(#id),
                        _ => operand(env, *v),
                    })
                    .collect();
                let call = match dead {
                    Some(slot) => f.call_reusing(&rt, slot, &args),
                    None => f.call(&rt, &args),
                };
                moved = dead.map(|slot| f.leaves[slot]);
                let id = var_ident(f.out);
                out.extend(quote_spanned!(f.span=> let #id = #call;));
                env.insert(f.out, Operand::Owned(id));
            }
        }
        let bound = env
            .keys()
            .filter(|v| !before.contains(v))
            .copied()
            .collect();
        emitted.push(Stmt {
            tokens: out,
            bound,
            moved,
        });
    }
    with_drops(emitted, outs, env)
}

/// Whether `v` is an owned temporary of this list that nothing reads
/// after a statement reading it `here` times (so that it may move in).
fn dead_after(
    env: &HashMap<Var, Operand>,
    defined: &HashMap<Var, &Eqn>,
    outs: &[Var],
    reads: &HashMap<Var, usize>,
    v: Var,
    here: usize,
) -> bool {
    matches!(env.get(&v), Some(Operand::Owned(_)))
        && defined.contains_key(&v)
        && !outs.contains(&v)
        && reads.get(&v) == Some(&here)
}

/// One emitted statement: its tokens, the vars it binds and the var it
/// moves into its call (a dead buffer a fused chain writes over).
struct Stmt {
    tokens: TokenStream,
    bound: Vec<Var>,
    moved: Option<Var>,
}

/// The statements, each owned temporary dropped after the last one that
/// names it (so that a long generated function holds only the tensors it
/// still reads, not all of them until it returns). Outputs stay, and so
/// do temporaries moved into a call. Names are found in the tokens, which
/// over-approximates the reads (a closure's parameter with a temporary's
/// name keeps it longer); a reference result (`assert_batch`, a
/// projection) keeps what its statement names alive while it is named.
fn with_drops(stmts: Vec<Stmt>, outs: &[Var], env: &HashMap<Var, Operand>) -> TokenStream {
    let mut owned: HashMap<String, Var> = HashMap::new();
    let mut refs: HashMap<String, Var> = HashMap::new();
    for s in &stmts {
        for v in &s.bound {
            match env.get(v) {
                Some(Operand::Owned(id)) => owned.insert(id.to_string(), *v),
                Some(Operand::Ref(_)) => refs.insert(var_ident(*v).to_string(), *v),
                None => None,
            };
        }
    }
    let mut last: HashMap<Var, usize> = HashMap::new();
    let mut held: HashMap<Var, Vec<Var>> = HashMap::new();
    let mut no_drop: std::collections::HashSet<Var> = outs.iter().copied().collect();
    for (i, s) in stmts.iter().enumerate() {
        let mut named = Vec::new();
        idents(s.tokens.clone(), &mut |name| {
            if let Some(v) = owned.get(name).or_else(|| refs.get(name)) {
                named.push(*v);
            }
        });
        let mut reached: Vec<Var> = Vec::new();
        while let Some(v) = named.pop() {
            if reached.contains(&v) {
                continue;
            }
            reached.push(v);
            named.extend(held.get(&v).into_iter().flatten().copied());
        }
        for v in &reached {
            last.insert(*v, i);
        }
        for v in &s.bound {
            if refs.contains_key(&var_ident(*v).to_string()) {
                held.insert(*v, reached.clone());
                no_drop.insert(*v);
            }
        }
        no_drop.extend(s.moved);
    }
    // What an output borrows lives as long as the output.
    for v in outs {
        no_drop.extend(held.get(v).into_iter().flatten().copied());
    }
    let mut out = TokenStream::new();
    for (i, s) in stmts.into_iter().enumerate() {
        out.extend(s.tokens);
        let mut dead: Vec<Var> = last
            .iter()
            .filter(|&(v, at)| *at == i && !no_drop.contains(v))
            .map(|(v, _)| *v)
            .collect();
        dead.sort();
        for v in dead {
            let id = match env.get(&v) {
                Some(Operand::Owned(id)) => id.clone(),
                _ => var_ident(v),
            };
            out.extend(quote!(::core::mem::drop(#id);));
        }
    }
    out
}

/// Calls `f` with every identifier in `tokens`, groups included.
fn idents(tokens: TokenStream, f: &mut impl FnMut(&str)) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(id) => f(&id.to_string()),
            proc_macro2::TokenTree::Group(g) => idents(g.stream(), f),
            _ => {}
        }
    }
}

/// How many times `eqns` read each var, `outs` counted too.
fn read_counts(eqns: &[Eqn], outs: &[Var]) -> HashMap<Var, usize> {
    let mut reads: HashMap<Var, usize> = HashMap::new();
    for v in eqns.iter().flat_map(|e| e.ins.iter()).chain(outs) {
        *reads.entry(*v).or_default() += 1;
    }
    reads
}

/// The arguments of product `e`, its matrix input read from `w` (a
/// transposed view's data) when given.
fn product_args(env: &HashMap<Var, Operand>, e: &Eqn, w: Option<Var>) -> Vec<TokenStream> {
    let matrix = e.prim.transposable_input();
    e.ins
        .iter()
        .enumerate()
        .map(|(i, v)| match w {
            Some(w) if Some(i) == matrix => operand(env, w),
            _ => operand(env, *v),
        })
        .collect()
}

/// The call for a [`fuse::Group::MovedLast`].
#[allow(clippy::too_many_arguments)]
fn moved_last(
    env: &HashMap<Var, Operand>,
    rt: &TokenStream,
    fused: &fuse::Fused<'_>,
    dm: &Eqn,
    w: Option<Var>,
    bl: Option<Var>,
    slot: usize,
    reference: Var,
) -> TokenStream {
    let args = product_args(env, dm, w);
    let nb = proc_macro2::Literal::usize_unsuffixed(dm.nb as usize);
    let bl = bl.map(|v| operand(env, v));
    let operands = match &dm.prim {
        crate::prims::Prim::Diag(d) => d.mm_operands(&args, nb, w.is_some(), bl.as_ref()),
        _ => None,
    };
    let Some(operands) = operands else {
        return quote!(::core::compile_error!(
            "transforms: internal error: moved a non-product"
        ));
    };
    let r = operand(env, reference);
    let (others, cuda, f) = chain_parts(env, rt, fused, slot);
    quote!(#rt::ops::diag_matmul_map_last(#rt::ops::#operands, #slot, [#(#others),*], #r, #cuda, #f))
}

/// For a chain over a seed product at leaf `slot`: the other leaves (as
/// borrows), the chain's CUDA C (an `Option<&str>`) and its closure taking
/// the product's value first (see `Fused::split_closure`).
fn chain_parts(
    env: &HashMap<Var, Operand>,
    rt: &TokenStream,
    fused: &fuse::Fused<'_>,
    slot: usize,
) -> (Vec<TokenStream>, TokenStream, TokenStream) {
    let others = fused
        .leaves
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != slot)
        .map(|(_, v)| operand(env, *v))
        .collect();
    let cuda = match fused.cuda_src() {
        Some(src) => quote!(::core::option::Option::Some(#src)),
        None => quote!(::core::option::Option::None),
    };
    (others, cuda, fused.split_closure(rt, slot))
}

/// The call for a [`fuse::Group::TaChain`].
fn ta_chain(
    env: &HashMap<Var, Operand>,
    rt: &TokenStream,
    fused: &fuse::Fused<'_>,
    ta: &Eqn,
    w: Option<Var>,
    slot: usize,
) -> TokenStream {
    let args = product_args(env, ta, w);
    let nb = proc_macro2::Literal::usize_unsuffixed(ta.nb as usize);
    let operands = match &ta.prim {
        crate::prims::Prim::Diag(d) => d.ta_operands(&args, nb, w.is_some()),
        _ => None,
    };
    let Some(operands) = operands else {
        return quote!(::core::compile_error!(
            "transforms: internal error: chained a non-product"
        ));
    };
    let (others, cuda, f) = chain_parts(env, rt, fused, slot);
    quote!(#rt::ops::diag_matmul_ta_map(#rt::ops::#operands, #slot, [#(#others),*], #cuda, #f))
}

/// The fallback of a one-call group: its `members` emitted on their own
/// (without the layer groups), in a scope of their own, and the owned
/// values of `outs` at its end.
fn separate_ops(
    env: &HashMap<Var, Operand>,
    members: &[&Eqn],
    outs: &[Var],
    views: &Views,
) -> (TokenStream, Vec<TokenStream>) {
    let eqns: Vec<Eqn> = members.iter().map(|e| (*e).clone()).collect();
    let mut sub = env.clone();
    let stmts = emit(&eqns, outs, &mut sub, views, false);
    (stmts, take(&sub, outs))
}

/// The statement for a [`fuse::Group::DenseJac`]: `ops::dense_jac` with
/// the chain as a closure over scalars, and the group's separate ops as
/// the fallback; binds the seed product's var and the chain's values read
/// elsewhere.
fn dense_jac(
    env: &mut HashMap<Var, Operand>,
    rt: &TokenStream,
    d: &DenseJac<'_>,
    views: &Views,
) -> TokenStream {
    let (x, w) = (operand(env, d.x), operand(env, d.w));
    let nb = proc_macro2::Literal::usize_unsuffixed(d.mm.nb as usize);
    let sides: Vec<TokenStream> = d.side.iter().map(|v| operand(env, *v)).collect();
    let side_ids: Vec<Ident> = d.side.iter().map(|v| var_ident(*v)).collect();
    let s = proc_macro2::Literal::usize_unsuffixed(d.side.len());
    let y = var_ident(d.mm.out);
    let body = d.chain.iter().map(|e| {
        let args: Vec<TokenStream> = e
            .ins
            .iter()
            .map(|v| {
                let id = var_ident(*v);
                quote!(#id)
            })
            .collect();
        let id = var_ident(e.out);
        let call = fuse::elem_call(rt, &e.prim, &args);
        quote!(let #id = #call;)
    });
    let u = var_ident(d.u);
    let kept: Vec<Ident> = d.kept.iter().map(|v| var_ident(*v)).collect();
    let closure = quote!(|#y, [#(#side_ids),*]: [_; #s]| { #(#body)* (#u, [#(#kept),*]) });
    let outs: Vec<Var> = d.outputs.iter().map(|(v, _)| *v).collect();
    let (separate, values) = separate_ops(env, &d.members, &outs, views);
    let jac = var_ident(d.root.out);
    // On the fast path each output is the Jacobian or a kept value, moved
    // at its last use and cloned before.
    let fast = d.outputs.iter().enumerate().map(|(i, (_, s))| {
        let id = var_ident(*s);
        if d.outputs[i + 1..].iter().any(|(_, later)| later == s) {
            quote!(::core::clone::Clone::clone(&#id))
        } else {
            quote!(#id)
        }
    });
    let call = match d.seed {
        Some(seed) => {
            let seed = operand(env, seed);
            quote!(#rt::ops::dense_jac_fwd(#x, #w, #nb, #seed, [#(#sides),*], #closure))
        }
        None => quote!(#rt::ops::dense_jac(#x, #w, #nb, [#(#sides),*], #closure)),
    };
    let ids: Vec<Ident> = outs.iter().map(|v| var_ident(*v)).collect();
    let stmt = quote_spanned!(d.root.span=>
        let (#(#ids,)*) = match #call {
            ::core::option::Option::Some((#jac, [#(#kept),*])) => (#(#fast,)*),
            ::core::option::Option::None => {
                #separate
                (#(#values,)*)
            }
        };
    );
    for (v, id) in outs.iter().zip(ids) {
        env.insert(*v, Operand::Owned(id));
    }
    stmt
}

/// The statement for a [`fuse::Group::DenseHess`]: `ops::dense_hess` with
/// the chain as a closure taking the forward product's value first, and
/// the group's separate ops as the fallback.
fn dense_hess(
    env: &mut HashMap<Var, Operand>,
    rt: &TokenStream,
    h: &crate::hess_fold::DenseHess<'_>,
    views: &Views,
) -> TokenStream {
    let op = |v: Var| operand(env, v);
    let [seed, x] = [h.dm.ins[0], h.dm.ins[1]].map(op);
    let w = op(h.w);
    let ([_, like, _, a_like], t) = h.ta;
    let (like, a_like) = (op(like), op(a_like));
    let t = match t {
        Some(t) => {
            let t = op(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    };
    let [ref_o, ref_k] = h.refs.map(op);
    let nb = proc_macro2::Literal::usize_unsuffixed(h.prod.nb as usize);
    let (others, _, f) = chain_parts(env, rt, &h.fused, h.slot);
    let (separate, mut values) = separate_ops(env, &h.members, &[h.root.out], views);
    let value = values.remove(0);
    let id = var_ident(h.root.out);
    let stmt = quote_spanned!(h.root.span=>
        let #id = match #rt::ops::dense_hess(
            #rt::ops::DenseHess {
                seed: #seed, x: #x, w: #w, like: #like, t: #t, a_like: #a_like,
                ref_o: #ref_o, ref_k: #ref_k, nb: #nb,
            },
            [#(#others),*],
            #f,
        ) {
            ::core::option::Option::Some(h) => h,
            ::core::option::Option::None => {
                #separate
                #value
            }
        };
    );
    env.insert(h.root.out, Operand::Owned(id));
    stmt
}

/// A borrow (`&Tensor`) of `v`'s value.
pub fn borrow(env: &HashMap<Var, Operand>, v: Var) -> TokenStream {
    operand(env, v)
}

fn operand(env: &HashMap<Var, Operand>, v: Var) -> TokenStream {
    match env.get(&v) {
        Some(op) => op.borrow(),
        // Unreachable after verification; a compile error beats a panic.
        None => quote!(::core::compile_error!(
            "transforms: internal error: undefined var"
        )),
    }
}

/// Owned values for `outs`: moved when owned and last used, cloned otherwise.
pub fn take(env: &HashMap<Var, Operand>, outs: &[Var]) -> Vec<TokenStream> {
    outs.iter()
        .enumerate()
        .map(|(i, v)| match env.get(v) {
            Some(Operand::Owned(id)) if !outs[i + 1..].contains(v) => quote!(#id),
            Some(op) => {
                let r = op.borrow();
                quote!(::core::clone::Clone::clone(#r))
            }
            None => quote!(::core::compile_error!(
                "transforms: internal error: undefined output"
            )),
        })
        .collect()
}

/// The value of an output tree.
pub fn tree_value(tree: &Tree, values: &[TokenStream]) -> TokenStream {
    match tree {
        Tree::Leaf(i) => values[*i].clone(),
        Tree::Tuple(ts) => {
            let parts = ts.iter().map(|t| tree_value(t, values));
            quote!((#(#parts,)*))
        }
    }
}

/// The type of an output tree.
pub fn tree_type(tree: &Tree, tensor_ty: &TokenStream) -> TokenStream {
    match tree {
        Tree::Leaf(_) => tensor_ty.clone(),
        Tree::Tuple(ts) => {
            let parts = ts.iter().map(|t| tree_type(t, tensor_ty));
            quote!((#(#parts,)*))
        }
    }
}
