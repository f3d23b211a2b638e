//! A batched sum made in blocks of rows. `h = add(acc, p)`, where `p` is a
//! product batched over an outer dim (a Hessian's term: `hessian = jacfwd
//! (jacrev)` batches the inner Jacobian over the basis of its input) and
//! read only by the sum, is emitted as `ops::add_rows`: a closure makes
//! rows `r` of `p` from rows `r` of its batched operands, and the runtime
//! adds each block into `acc`'s buffer. The products and seeds that only
//! `p` reads go in the closure too, so the seed's identity basis and the
//! products between are never whole either: only `acc`, the result, and
//! a block of each.
//!
//! Every equation in the block is batched over the sum's outer dim, at the
//! front of every operand: an operand not batched there reaches it through
//! a lift (`unsqueeze`, which stays outside), so the block's equations see
//! rows `r` of their batched operands and the whole of the rest. Products
//! that could sum over that dim (`keep` without its bit) stay outside.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::codegen::{self, Operand};
use crate::ir::{Eqn, Var};
use crate::prims::{Binary, Diag, Matmul, Prim};
use crate::tview::Views;

/// `root = add(acc, p)` with `p` made in blocks of rows.
pub struct Rows<'a> {
    pub root: &'a Eqn,
    /// The sum the blocks are added to.
    pub acc: Var,
    /// The equations that make `p` (the last), in program order.
    pub members: Vec<&'a Eqn>,
}

/// Whether `e` makes each row of its outer batch dim from the same row of
/// its operands (or their single broadcast row).
fn row_local(e: &Eqn) -> bool {
    e.nb >= 1
        && match &e.prim {
            Prim::Matmul(Matmul::Mm) | Prim::Diag(Diag::Mm { .. } | Diag::MmRight { .. }) => true,
            Prim::Matmul(Matmul::Ta(k) | Matmul::Tb(k))
            | Prim::Diag(Diag::Ta { keep: k, .. } | Diag::Tb { keep: k, .. }) => k & 1 != 0,
            p => p.is_elementwise(),
        }
}

/// A seed's dense form (`diag(u, like)`, no batch dims, no sum), whose
/// rows are made for the block (`ops::diag_rows`).
fn is_seed(e: &Eqn) -> bool {
    e.nb == 0 && matches!(e.prim, Prim::Diag(Diag::Embed { has_t: false, .. }))
}

/// The block rooted at `root`, if `root` adds a product read only by it.
pub fn find<'a>(
    root: &'a Eqn,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
    pos: &HashMap<Var, usize>,
    taken: &dyn Fn(Var) -> bool,
) -> Option<Rows<'a>> {
    let add = matches!(root.prim, Prim::Binary(Binary::Add));
    if !add || root.nb == 0 || root.ins[0] == root.ins[1] {
        return None;
    }
    let member = |v: &Var| {
        by_out.get(v).copied().filter(|e| {
            uses.get(v) == Some(&1)
                && !taken(*v)
                && !views.defines(e)
                && views.read_by(e).is_none()
                && (row_local(e) || is_seed(e))
        })
    };
    let (slot, p) = [1, 0].into_iter().find_map(|i| {
        member(&root.ins[i])
            .filter(|p| crate::memory_order::large(p) && !is_seed(p))
            .map(|p| (i, p))
    })?;
    let mut members = vec![p];
    let mut seen: HashSet<Var> = HashSet::from([p.out]);
    let mut i = 0;
    while i < members.len() {
        let m = members[i];
        i += 1;
        if is_seed(m) {
            continue;
        }
        for v in &m.ins {
            if let Some(e) = member(v)
                && seen.insert(*v)
            {
                members.push(e);
            }
        }
    }
    // Operands from outside must be values the emitted code holds.
    let inputs = outside(&members);
    if inputs
        .iter()
        .any(|v| by_out.get(v).is_some_and(|e| views.defines(e)))
    {
        return None;
    }
    members.sort_by_key(|e| pos.get(&e.out).copied());
    Some(Rows {
        root,
        acc: root.ins[1 - slot],
        members,
    })
}

/// The vars the members read that none of them defines, in order.
fn outside(members: &[&Eqn]) -> Vec<Var> {
    let defined: HashSet<Var> = members.iter().map(|e| e.out).collect();
    let mut out = Vec::new();
    for v in members.iter().flat_map(|e| &e.ins) {
        if !defined.contains(v) && !out.contains(v) {
            out.push(*v);
        }
    }
    out
}

/// The statement defining the root: `add_rows(acc, rows, nb, |r| ..)`.
/// `acc` is moved in when `dead` (nothing reads it afterwards).
pub fn emit(
    env: &HashMap<Var, Operand>,
    rt: &TokenStream,
    g: &Rows<'_>,
    dead: bool,
) -> TokenStream {
    let r = crate::expand::local("__transforms_rows");
    let n = crate::expand::local("__transforms_n");
    let p = g.members.last().expect("a block has its product").out;
    let (seeds, body): (Vec<&Eqn>, Vec<&Eqn>) = g.members.iter().partition(|e| is_seed(e));
    // Operands of the batched equations, sliced to the block.
    let batched = outside(&body);
    let mut inner = crate::expand::chunk::borrowed(env);
    let mut prelude = Vec::new();
    for v in &batched {
        if seeds.iter().any(|s| s.out == *v) {
            continue;
        }
        // Named after the whole and the root (`v7_r9` in the block of
        // `v9`; `v7_r9_r8` in a block of `v8` within it): one name per
        // slice in the whole function.
        let base = match env.get(v) {
            Some(Operand::Owned(id)) => id.to_string(),
            _ => codegen::var_ident(*v).to_string(),
        };
        let root = g.root.out.0;
        let id = format_ident!("{base}_r{root}", span = proc_macro2::Span::mixed_site());
        let src = codegen::borrow(env, *v);
        prelude.push((
            quote!(let #id = #rt::ops::rows_of(#src, #r.clone(), #n);),
            *v,
        ));
        inner.insert(*v, Operand::Owned(id));
    }
    let mut likes = Vec::new();
    for s in &seeds {
        let (u, like) = (
            codegen::borrow(env, s.ins[0]),
            codegen::borrow(env, s.ins[1]),
        );
        let id = codegen::var_ident(s.out);
        let call = quote_spanned!(s.span=> let #id = #rt::ops::diag_rows(#u, #like, #r.clone()););
        prelude.push((call, s.out));
        inner.insert(s.out, Operand::Owned(id));
        likes.push(like);
    }
    let lead: Vec<TokenStream> = batched
        .iter()
        .filter(|v| !seeds.iter().any(|s| s.out == **v))
        .map(|v| codegen::borrow(env, *v))
        .collect();
    let eqns: Vec<Eqn> = body.iter().map(|e| (*e).clone()).collect();
    let views = Views::find(&eqns, &[p]);
    let stmts = codegen::emit_after(prelude, &eqns, &[p], &mut inner, &views, false);
    let value = codegen::take(&inner, &[p]).remove(0);
    let acc = match env.get(&g.acc) {
        Some(Operand::Owned(id)) if dead => quote!(#id),
        _ => {
            let b = codegen::borrow(env, g.acc);
            quote!(::core::clone::Clone::clone(#b))
        }
    };
    let nb = proc_macro2::Literal::usize_unsuffixed(g.root.nb as usize);
    let id = codegen::var_ident(g.root.out);
    quote_spanned! {g.root.span=>
        let #id = {
            let #n = #rt::ops::batch_rows(&[#(#lead),*], &[#(#likes),*]);
            #rt::ops::add_rows(#acc, #n, #nb, |#r: ::core::ops::Range<usize>| {
                #stmts
                #value
            })
        };
    }
}
