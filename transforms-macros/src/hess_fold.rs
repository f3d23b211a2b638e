//! A dense layer's Hessian as one runtime call. `hessian` of
//! `act(linear(x, w, b))` emits the forward seed's product `p =
//! diag_matmul(seed, x, t(w))` broadcast over the outputs, an elementwise
//! chain of `p` with per-output values (`act''(y)` and such), and the
//! reverse seed product in the Hessian's layout (`fuse::Group::Swapped`).
//! [`find`] groups them (`fuse::Group::DenseHess`); codegen emits
//! `ops::dense_hess`, which computes the chain's values in the Hessian's
//! order directly, with the separate ops as its fallback (a GPU, another
//! seed, other shapes).

use std::collections::HashMap;

use crate::fuse::{Fused, Group};
use crate::ir::{Eqn, Scalar, Var};
use crate::prims::{Diag, Layout, Prim, Relayout};
use crate::tview::Views;

/// One layer's Hessian: the chain over the forward product (leaf `slot`)
/// and the reverse product's move (`root`).
pub struct DenseHess<'a> {
    /// Every equation of the group, in order (the root last).
    pub members: Vec<&'a Eqn>,
    pub root: &'a Eqn,
    pub fused: Fused<'a>,
    pub slot: usize,
    /// The forward seed product `diag_matmul(seed, x, t(w))`.
    pub dm: &'a Eqn,
    /// The matrix data `dm` reads transposed.
    pub w: Var,
    /// The reverse seed product `diag_matmul_ta(u, like, t, .., a_like)`.
    pub prod: &'a Eqn,
    /// Its inputs `[u, like, b, a_like]` and `t`.
    pub ta: ([Var; 4], Option<Var>),
    /// The move's shape references (see `Group::Swapped`).
    pub refs: [Var; 2],
}

/// The group rooted at `e`, if `e` is the move of a layer's Hessian.
pub fn find<'a>(
    e: &'a Eqn,
    eqns: &'a [Eqn],
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> Option<DenseHess<'a>> {
    let (group, folded) = crate::layout_folds::swapped(e, by_out, uses, views)?;
    let Group::Swapped {
        prod,
        w: Some(pw),
        refs,
        ..
    } = group
    else {
        return None;
    };
    let nb = prod.nb;
    let Prim::Diag(d) = &prod.prim else {
        return None;
    };
    // The swapped dim kept (one Hessian row per input), nothing summed.
    let (ins, t, keep) = d.ta_inputs(&prod.ins)?;
    if Some(keep)
        != nb
            .checked_sub(1)
            .and_then(|d| 1u32.checked_shl(u32::from(d)))
    {
        return None;
    }
    let single = |v: Var, prim: &dyn Fn(&Prim) -> bool, nb: u8| {
        crate::layout_folds::single_use(by_out, uses, v, prim, nb)
    };
    let root = single(ins[0], &|p| p.is_elementwise(), nb)?;
    let fused = Fused::collected(root, nb, by_out, uses);
    // The one leaf that is the forward product, broadcast over the outputs.
    let broadcast = |p: &Prim| matches!(p, Prim::Relayout(Relayout::BroadcastLike));
    let forward = |p: &Prim| matches!(p, Prim::Diag(Diag::Mm { has_t: false }));
    let mut found = fused.leaves.iter().enumerate().filter_map(|(i, &l)| {
        let bl = single(l, &broadcast, nb)?;
        let dm = single(*bl.ins.first()?, &forward, nb - 1)?;
        if dm.ins.len() != 3 {
            return None;
        }
        Some((i, bl, dm))
    });
    let (slot, bl, dm) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    // Both products read one matrix: the reverse one a lift of the forward
    // one's (both transposed views).
    let w = views.read_by(dm)?;
    let lift = by_out.get(&pw).copied()?;
    let lifted = matches!(lift.prim, Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))));
    if !lifted || lift.nb != 0 || lift.ins.first() != dm.ins.get(2) {
        return None;
    }
    let mut members: Vec<&Eqn> = fused.inner.values().copied().collect();
    members.extend([root, bl, dm, e]);
    members.extend(folded.iter().filter_map(|v| by_out.get(v).copied()));
    let position = |x: &Eqn| eqns.iter().position(|y| y.out == x.out);
    members.sort_by_key(|x| position(x));
    members.dedup_by_key(|x| x.out);
    Some(DenseHess {
        members,
        root: e,
        fused,
        slot,
        dm,
        w,
        prod,
        ta: (ins, t),
        refs,
    })
}
