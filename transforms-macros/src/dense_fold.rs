//! A dense layer's Jacobian in reverse mode as one runtime call: `jacrev`
//! of `act(linear(x, w, b))` emits `y = matmul(x, t(w))`, an elementwise
//! chain from `y` (and operands that do not depend on it, such as `b`) to
//! the scales `u` (`1 - tanh(y + b)²`), and the seed product
//! `diag_matmul_ta(u, like, t, t(w), x)`. Emitted separately these are a
//! tensor op each; [`find`] groups them (`fuse::Group::DenseJac`) and
//! codegen emits `ops::dense_jac`, with the separate ops as its fallback
//! for the cases the runtime leaves to them (a GPU, other shapes).
//!
//! Chain values that the rest of the program reads (the primal output
//! `tanh(y + b)`, used for its shape) are returned by the call as well, so
//! the group is one node of the dataflow graph; [`schedule`] moves the
//! equations that read them after the group.

use std::collections::{HashMap, HashSet};

use crate::ir::{Eqn, Var};
use crate::prims::{Matmul, Prim};
use crate::tview::Views;

/// At most this many equations in the chain from `y` to `u`.
const MAX_CHAIN: usize = 24;
/// At most this many operands of the chain besides `y`.
const MAX_SIDE: usize = 4;

/// One dense layer's Jacobian: `mm`, its `chain` in equation order, the
/// seed product `ta`.
pub struct DenseJac<'a> {
    pub mm: &'a Eqn,
    pub chain: Vec<&'a Eqn>,
    pub ta: &'a Eqn,
    /// `x`, the layer's input (`mm`'s left operand, `ta`'s `a_like`).
    pub x: Var,
    /// The untransposed matrix data that `mm` and `ta` read transposed.
    pub w: Var,
    /// The chain's operands that do not depend on `y`.
    pub side: Vec<Var>,
    /// The chain's values (or `y`) read outside the group, in var order.
    pub kept: Vec<Var>,
}

impl DenseJac<'_> {
    /// The group's equations in order.
    pub fn eqns(&self) -> impl Iterator<Item = &Eqn> {
        std::iter::once(self.mm)
            .chain(self.chain.iter().copied())
            .chain(std::iter::once(self.ta))
    }

    /// The vars the group defines.
    fn defines(&self) -> HashSet<Var> {
        self.eqns().map(|e| e.out).collect()
    }

    /// The value computed by the chain that scales the rows.
    pub fn u(&self) -> Var {
        self.ta.ins[0]
    }
}

/// The dense-layer groups of `eqns`, disjoint, none of whose seed products
/// is in `taken` (claimed by another fold).
pub fn find<'a>(
    eqns: &'a [Eqn],
    outs: &[Var],
    views: &Views,
    taken: &HashSet<Var>,
) -> Vec<DenseJac<'a>> {
    let by_out: HashMap<Var, &Eqn> = eqns.iter().map(|e| (e.out, e)).collect();
    let mut claimed: HashSet<Var> = HashSet::new();
    let mut found = Vec::new();
    for ta in eqns {
        if taken.contains(&ta.out) {
            continue;
        }
        let Some(d) = one(ta, eqns, outs, &by_out, views) else {
            continue;
        };
        let defs = d.defines();
        if defs.iter().any(|v| claimed.contains(v)) {
            continue;
        }
        claimed.extend(defs);
        found.push(d);
    }
    found
}

/// The group whose seed product is `ta`, if `ta` is one.
fn one<'a>(
    ta: &'a Eqn,
    eqns: &'a [Eqn],
    outs: &[Var],
    by_out: &HashMap<Var, &'a Eqn>,
    views: &Views,
) -> Option<DenseJac<'a>> {
    let Prim::Diag(d) = &ta.prim else {
        return None;
    };
    let ([u, like, b, x], t) = d.ta_inputs(&ta.ins)?;
    let w = views.read_by(ta)?;
    let mm = eqns
        .iter()
        .find(|e| matches!(e.prim, Prim::Matmul(Matmul::Mm)) && e.nb == ta.nb && e.ins == [x, b])?;
    if views.read_by(mm) != Some(w) {
        return None;
    }
    let y = mm.out;
    // The chain: the elementwise equations (at `ta`'s batch dims) on a path
    // from `y` to `u`.
    let mut chain: HashMap<Var, &Eqn> = HashMap::new();
    let mut depends: HashMap<Var, bool> = HashMap::new();
    if !reaches(u, y, ta.nb, by_out, &mut chain, &mut depends) || chain.len() > MAX_CHAIN {
        return None;
    }
    // `like` and `t` are shape references: values of `y`'s shape.
    let in_group = |v: Var| v == y || chain.contains_key(&v);
    if !in_group(like) || !t.is_none_or(in_group) {
        return None;
    }
    let mut side: Vec<Var> = Vec::new();
    for e in chain.values() {
        for v in &e.ins {
            if !in_group(*v) && !side.contains(v) {
                side.push(*v);
            }
        }
    }
    side.sort();
    if side.len() > MAX_SIDE {
        return None;
    }
    let mut members: Vec<&Eqn> = chain.values().copied().collect();
    members.sort_by_key(|e| position(eqns, e));
    let group: HashSet<Var> = members.iter().map(|e| e.out).chain([y, ta.out]).collect();
    // One node of the dataflow graph: no operand of the chain is computed
    // from the group's values.
    let downstream = downstream_of(eqns, &group);
    if side.iter().any(|v| downstream.contains(v)) {
        return None;
    }
    let mut kept: Vec<Var> = eqns
        .iter()
        .filter(|e| !group.contains(&e.out))
        .flat_map(|e| e.ins.iter().copied())
        .chain(outs.iter().copied())
        .filter(|v| *v != ta.out && group.contains(v))
        .collect();
    kept.sort();
    kept.dedup();
    Some(DenseJac {
        mm,
        chain: members,
        ta,
        x,
        w,
        side,
        kept,
    })
}

/// Whether `v` is computed from `y` through elementwise equations at `nb`
/// batch dims; adds those on a path to `chain`.
fn reaches<'a>(
    v: Var,
    y: Var,
    nb: u8,
    by_out: &HashMap<Var, &'a Eqn>,
    chain: &mut HashMap<Var, &'a Eqn>,
    memo: &mut HashMap<Var, bool>,
) -> bool {
    if v == y {
        return true;
    }
    if let Some(&known) = memo.get(&v) {
        return known;
    }
    let Some(e) = by_out
        .get(&v)
        .filter(|e| e.prim.is_elementwise() && e.nb == nb)
    else {
        memo.insert(v, false);
        return false;
    };
    let mut any = false;
    for i in &e.ins {
        any |= reaches(*i, y, nb, by_out, chain, memo);
    }
    if any {
        chain.insert(v, e);
    }
    memo.insert(v, any);
    any
}

fn position(eqns: &[Eqn], e: &Eqn) -> usize {
    eqns.iter()
        .position(|x| x.out == e.out)
        .unwrap_or(usize::MAX)
}

/// The vars computed (transitively) from `group`'s values outside it.
fn downstream_of(eqns: &[Eqn], group: &HashSet<Var>) -> HashSet<Var> {
    let mut down: HashSet<Var> = HashSet::new();
    for e in eqns {
        if !group.contains(&e.out) && e.ins.iter().any(|v| group.contains(v) || down.contains(v)) {
            down.insert(e.out);
        }
    }
    down
}

/// `eqns` in an order that computes each group at its seed product's
/// position: the equations before it that read the group's values
/// (directly or not) move to just after it, in their order. Their other
/// operands are computed before them still, and none of them feeds the
/// group (checked by [`find`]), so the order stays valid.
pub fn schedule<'a>(eqns: &'a [Eqn], groups: &[DenseJac<'a>]) -> Vec<&'a Eqn> {
    let mut order: Vec<&Eqn> = eqns.iter().collect();
    for g in groups {
        let defs = g.defines();
        let Some(at) = order.iter().position(|e| e.out == g.ta.out) else {
            continue;
        };
        let mut down: HashSet<Var> = HashSet::new();
        let mut moved = Vec::new();
        let mut kept = Vec::new();
        for e in &order[..at] {
            let reads = e.ins.iter().any(|v| defs.contains(v) || down.contains(v));
            if reads && !defs.contains(&e.out) {
                down.insert(e.out);
                moved.push(*e);
            } else {
                kept.push(*e);
            }
        }
        kept.push(order[at]);
        kept.extend(moved);
        kept.extend_from_slice(&order[at + 1..]);
        order = kept;
    }
    order
}
