//! Folds at emission into the seed products: the final layout moves that
//! `jacfwd` and `hessian` emit, folded into the products that compute the
//! moved values, so that no pass copies a whole Jacobian or Hessian to move
//! a dim (see `fuse::Group::{Swapped, MovedLast}` and the runtime's
//! `diag_matmul_ta_swapped` / `diag_matmul_map_last`); and an elementwise
//! chain over a reverse-mode product, applied as the product writes its
//! rows (`fuse::Group::TaChain`, `diag_matmul_ta_map`).

use std::collections::HashMap;

use crate::fuse::{Fused, Group};
use crate::ir::{Eqn, Scalar, Var};
use crate::prims::{Diag, Layout, Prim, Relayout};
use crate::tview::Views;

/// Whether `e` is `movedim(x, 0, to)`.
fn is_movedim(e: &Eqn, to: i64) -> bool {
    matches!(&e.prim, Prim::Layout(Layout::Movedim(Scalar::Int(0), Scalar::Int(t))) if *t == to)
}

/// The equation defining `v` if it is a `prim` at `nb` batch dims and `v`
/// has no other use.
pub(crate) fn single_use<'a>(
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    v: Var,
    prim: &dyn Fn(&Prim) -> bool,
    nb: u8,
) -> Option<&'a Eqn> {
    by_out
        .get(&v)
        .copied()
        .filter(|p| prim(&p.prim) && p.nb == nb && uses.get(&v) == Some(&1))
}

/// The [`Group::MovedLast`] rooted at `e`, if `e` is jacfwd's final move
/// of an elementwise chain over one seed product: with the vars it folds.
pub(crate) fn moved_last<'a>(
    e: &'a Eqn,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> Option<(Group<'a>, Vec<Var>)> {
    if !is_movedim(e, -1) {
        return None;
    }
    let single =
        |v: Var, prim: &dyn Fn(&Prim) -> bool, nb: u8| single_use(by_out, uses, v, prim, nb);
    let nb = e.nb.checked_add(1)?;
    let expand = single(
        *e.ins.first()?,
        &|p| matches!(p, Prim::Relayout(Relayout::ExpandDim0Like)),
        e.nb,
    )?;
    let root = single(expand.ins[0], &|p| p.is_elementwise(), nb)?;
    let fused = Fused::collected(root, nb, by_out, uses);
    // The one leaf that is a seed product (possibly broadcast first).
    let product = |leaf: Var| {
        let mm = |p: &Prim| matches!(p, Prim::Diag(Diag::Mm { .. } | Diag::MmRight { .. }));
        let broadcast = |p: &Prim| matches!(p, Prim::Relayout(Relayout::BroadcastLike));
        match single(leaf, &broadcast, nb) {
            Some(bl) => single(bl.ins[0], &mm, e.nb).map(|dm| (dm, Some(bl))),
            None => single(leaf, &mm, e.nb).map(|dm| (dm, None)),
        }
    };
    let mut found = fused
        .leaves
        .iter()
        .enumerate()
        .filter_map(|(i, &l)| Some((i, product(l)?)));
    let (slot, (dm, bl)) = found.next()?;
    if found.next().is_some() || views.defines(dm) {
        return None;
    }
    let mut folded = vec![expand.out, root.out, dm.out];
    folded.extend(fused.inner.keys().copied());
    folded.extend(bl.map(|b| b.out));
    let group = Group::MovedLast {
        out: e,
        fused,
        dm,
        w: views.read_by(dm),
        bl: bl.map(|b| b.ins[1]),
        slot,
        reference: expand.ins[1],
    };
    Some((group, folded))
}

/// The [`Group::Swapped`] rooted at `e`, if `e` is such a move: each
/// intermediate used once, the batch dims as the Hessian emits them.
pub(crate) fn swapped<'a>(
    e: &'a Eqn,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> Option<(Group<'a>, [Var; 3])> {
    if !is_movedim(e, 1) {
        return None;
    }
    let single =
        |v: Var, prim: &dyn Fn(&Prim) -> bool, nb: u8| single_use(by_out, uses, v, prim, nb);
    let expand = |p: &Prim| matches!(p, Prim::Relayout(Relayout::ExpandDim0Like));
    let ta = |p: &Prim| matches!(p, Prim::Diag(Diag::Ta { .. }));
    let nb = e.nb.checked_add(1)?;
    let ek = single(*e.ins.first()?, &expand, e.nb)?;
    let eo = single(ek.ins[0], &expand, nb)?;
    let prod = single(eo.ins[0], &ta, nb)?;
    if views.defines(prod) {
        return None;
    }
    let group = Group::Swapped {
        out: e,
        prod,
        w: views.read_by(prod),
        refs: [eo.ins[1], ek.ins[1]],
    };
    Some((group, [ek.out, eo.out, prod.out]))
}

/// The reverse-mode seed product among the leaves of `fused`, if exactly
/// one leaf is one (`Diag::Ta` at one batch dim fewer than the chain, its
/// result used only here, not a transposed view's source) and the chain's
/// scalars are constants (so that its CUDA C form exists for a GPU):
/// the product's equation and its leaf position.
pub(crate) fn ta_leaf<'a>(
    fused: &Fused<'a>,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> Option<(&'a Eqn, usize)> {
    let nb = fused.nb.checked_sub(1)?;
    let ta = |p: &Prim| matches!(p, Prim::Diag(Diag::Ta { .. }));
    let mut found = fused
        .leaves
        .iter()
        .enumerate()
        .filter_map(|(i, &l)| Some((single_use(by_out, uses, l, &ta, nb)?, i)));
    let (prod, slot) = found.next()?;
    if found.next().is_some() || views.defines(prod) || fused.cuda_src().is_none() {
        return None;
    }
    Some((prod, slot))
}
