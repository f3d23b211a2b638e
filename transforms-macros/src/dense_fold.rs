//! A dense layer's Jacobian as one runtime call. `jacrev` of
//! `act(linear(x, w, b))` emits `y = matmul(x, t(w))`, an elementwise chain
//! from `y` (and operands that do not depend on it, such as `b`) to the
//! scales `u` (`1 - tanh(y + b)²`), and the seed product
//! `diag_matmul_ta(u, like, t, t(w), x)`; `jacfwd` emits the same product
//! and chain, the seed product `diag_matmul(seed, x, t(w))` of its all-ones
//! seed, scaled by `unsqueeze(u)` and moved to the Jacobian's layout.
//! Emitted separately these are a tensor op each; [`find`] groups them
//! (`fuse::Group::DenseJac`) and codegen emits `ops::dense_jac` (or
//! `ops::dense_jac_fwd`, which checks the seed), with the separate ops as
//! the fallback for the cases the runtime leaves to them (a GPU, other
//! shapes, another seed).
//!
//! Chain values that the rest of the program reads (the primal output
//! `tanh(y + b)`, used for its shape) are returned by the call as well, so
//! the group is one node of the dataflow graph; [`schedule`] moves the
//! equations that read them after the group.

use std::collections::{HashMap, HashSet};

use crate::fuse::Group;
use crate::ir::{Eqn, Scalar, Var};
use crate::prims::{Binary, Const, Diag, Layout, Matmul, Prim, Relayout, WithScalar};
use crate::tview::Views;

/// At most this many equations in the chain from `y` to `u` (GELU's tanh
/// form and its derivative are 28).
const MAX_CHAIN: usize = 48;
/// At most this many operands of the chain besides `y`.
const MAX_SIDE: usize = 4;

/// One dense layer's Jacobian.
pub struct DenseJac<'a> {
    /// Every equation of the group, in order.
    pub members: Vec<&'a Eqn>,
    /// The equation whose value is the Jacobian (the last member).
    pub root: &'a Eqn,
    /// The layer's product `y = matmul(x, t(w))`.
    pub mm: &'a Eqn,
    /// The chain from `y` to the scales `u`, in order.
    pub chain: Vec<&'a Eqn>,
    /// The scales.
    pub u: Var,
    /// `x`, the layer's input.
    pub x: Var,
    /// The untransposed matrix data that the products read transposed.
    pub w: Var,
    /// `jacfwd`'s seed, which the fast path needs to be all ones.
    pub seed: Option<Var>,
    /// The chain's operands that do not depend on `y`.
    pub side: Vec<Var>,
    /// The chain's values (or `y`) that the fast path returns besides the
    /// Jacobian, in var order.
    pub kept: Vec<Var>,
    /// The group's vars read outside it, in var order, each with the value
    /// it equals on the fast path: the Jacobian (`root`) or one of `kept`
    /// (the shape ops after the Jacobian that `dense_tail` proves
    /// identities there are members too).
    pub outputs: Vec<(Var, Var)>,
}

impl DenseJac<'_> {
    /// The vars the group defines.
    fn defines(&self) -> HashSet<Var> {
        self.members.iter().map(|e| e.out).collect()
    }
}

/// The dense-layer groups of `eqns`, disjoint, none of whose seed products
/// is in `taken` (claimed by another fold).
pub fn find<'a>(
    eqns: &'a [Eqn],
    outs: &[Var],
    views: &Views,
    uses: &HashMap<Var, usize>,
    taken: &HashSet<Var>,
) -> Vec<DenseJac<'a>> {
    let by_out: HashMap<Var, &Eqn> = eqns.iter().map(|e| (e.out, e)).collect();
    let mut claimed: HashSet<Var> = HashSet::new();
    let mut found = Vec::new();
    for e in eqns {
        let core =
            reverse(e, eqns, views, taken).or_else(|| forward(e, eqns, &by_out, uses, views));
        let Some(d) = core.and_then(|c| complete(c, eqns, outs, &by_out, uses)) else {
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

/// What a pattern fixes of a group: the product, the scales, the root,
/// the members besides the product and the chain.
struct Core<'a> {
    mm: &'a Eqn,
    u: Var,
    x: Var,
    w: Var,
    seed: Option<Var>,
    root: &'a Eqn,
    /// Members besides the product and the chain (the root among them).
    rest: Vec<&'a Eqn>,
    /// Vars of the rest that hold `y`'s shape only (`like`, `t`): each
    /// must be a value of the group.
    shape_refs: Vec<Var>,
}

/// The layer's product `matmul(x, b)` at `nb` batch dims, `b` a view of
/// `w` read transposed.
fn product<'a>(eqns: &'a [Eqn], x: Var, b: Var, nb: u8, w: Var, views: &Views) -> Option<&'a Eqn> {
    eqns.iter().find(|e| {
        matches!(e.prim, Prim::Matmul(Matmul::Mm))
            && e.nb == nb
            && e.ins == [x, b]
            && views.read_by(e) == Some(w)
    })
}

/// `jacrev`'s form: `ta` a seed product `diag_matmul_ta(u, like, t, b, x)`.
fn reverse<'a>(
    ta: &'a Eqn,
    eqns: &'a [Eqn],
    views: &Views,
    taken: &HashSet<Var>,
) -> Option<Core<'a>> {
    let Prim::Diag(d) = &ta.prim else {
        return None;
    };
    if taken.contains(&ta.out) {
        return None;
    }
    let ([u, like, b, x], t, 0) = d.ta_inputs(&ta.ins)? else {
        return None;
    };
    let w = views.read_by(ta)?;
    let mm = product(eqns, x, b, ta.nb, w, views)?;
    let mut shape_refs = vec![like];
    shape_refs.extend(t);
    Some(Core {
        mm,
        u,
        x,
        w,
        seed: None,
        root: ta,
        rest: vec![ta],
        shape_refs,
    })
}

/// `jacfwd`'s form (no batch dims): `mv` the final move of
/// `fuse::Group::MovedLast` over `mul(p, unsqueeze(u))`, `p` the seed
/// product `diag_matmul(seed, x, b)` broadcast like a value of the chain.
fn forward<'a>(
    mv: &'a Eqn,
    eqns: &'a [Eqn],
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
    views: &Views,
) -> Option<Core<'a>> {
    if mv.nb != 0 {
        return None;
    }
    let (group, folded) = crate::layout_folds::moved_last(mv, by_out, uses, views)?;
    let Group::MovedLast {
        fused,
        dm,
        w: Some(w),
        slot,
        ..
    } = group
    else {
        return None;
    };
    let root = fused.root;
    let mul = matches!(root.prim, Prim::Binary(Binary::Mul));
    if !mul || !fused.inner.is_empty() || fused.leaves.len() != 2 {
        return None;
    }
    let [seed, x, b] = dm.ins[..] else {
        return None;
    };
    if !matches!(dm.prim, Prim::Diag(Diag::Mm { has_t: false })) {
        return None;
    }
    let other = fused.leaves[1 - slot.min(1)];
    let unsq = by_out.get(&other).copied().filter(|e| {
        matches!(e.prim, Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))))
            && e.nb == 0
            && uses.get(&other) == Some(&1)
    })?;
    let mm = product(eqns, x, b, 0, w, views)?;
    let mut rest: Vec<&Eqn> = folded
        .iter()
        .filter_map(|v| by_out.get(v).copied())
        .collect();
    rest.extend([unsq, mv]);
    // `jacfwd`'s seed built as ones shaped like `x` needs no check: the
    // group takes its equations (the separate ops compute it) and the call
    // is `ops::dense_jac`.
    let ones = ones_like(seed, x, by_out, uses);
    if let Some(built) = ones {
        rest.extend(built);
    }
    // The broadcast's reference: `unsqueeze(v)` of a value of the chain
    // (its shape only), a member too.
    let mut shape_refs = Vec::new();
    if let Some(bl) = rest
        .iter()
        .find(|e| matches!(e.prim, Prim::Relayout(Relayout::BroadcastLike)))
    {
        let r = *bl.ins.get(1)?;
        if let Some(re) = by_out.get(&r).copied().filter(|e| {
            matches!(e.prim, Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))))
                && e.nb == 0
                && uses.get(&r) == Some(&1)
        }) {
            shape_refs.push(re.ins[0]);
            rest.push(re);
        }
    }
    Some(Core {
        mm,
        u: unsq.ins[0],
        x,
        w,
        seed: if ones.is_some() { None } else { Some(seed) },
        root: mv,
        rest,
        shape_refs,
    })
}

/// The equations `add_scalar(zeros_like(x), 1.0)` of `seed`, ones shaped
/// like `x`, if `seed` is that and nothing else reads either value.
fn ones_like<'a>(
    seed: Var,
    x: Var,
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
) -> Option<[&'a Eqn; 2]> {
    let once = |v: &Var| uses.get(v) == Some(&1);
    let add = by_out.get(&seed).copied().filter(|e| {
        matches!(&e.prim, Prim::WithScalar(WithScalar::AddScalar(Scalar::Float(c))) if *c == 1.0)
            && e.nb == 0
            && once(&seed)
    })?;
    let z = *add.ins.first()?;
    let zeros = by_out.get(&z).copied().filter(|e| {
        matches!(e.prim, Prim::Const(Const::ZerosLike)) && e.nb == 0 && e.ins == [x] && once(&z)
    })?;
    Some([zeros, add])
}

/// The group of `core`: its chain, operands and kept values, if the chain
/// reaches `y`, each shape reference is a value of the group, and no
/// operand of a member is computed from the group's values.
fn complete<'a>(
    core: Core<'a>,
    eqns: &'a [Eqn],
    outs: &[Var],
    by_out: &HashMap<Var, &'a Eqn>,
    uses: &HashMap<Var, usize>,
) -> Option<DenseJac<'a>> {
    let y = core.mm.out;
    let nb = core.mm.nb;
    let mut chain: HashMap<Var, &Eqn> = HashMap::new();
    let mut memo: HashMap<Var, bool> = HashMap::new();
    if !reaches(core.u, y, nb, by_out, &mut chain, &mut memo) {
        return None;
    }
    // The values whose shape the seed product reads (the primal output,
    // `h * sigmoid(h)` for swish, say) join the chain when they are
    // elementwise functions of `y` too: the call returns them.
    for &r in &core.shape_refs {
        reaches(r, y, nb, by_out, &mut chain, &mut memo);
    }
    if chain.len() > MAX_CHAIN {
        return None;
    }
    let value = |v: Var| v == y || chain.contains_key(&v);
    if !core.shape_refs.iter().all(|&v| value(v)) {
        return None;
    }
    let mut side: Vec<Var> = chain
        .values()
        .flat_map(|e| e.ins.iter().copied())
        .filter(|v| !value(*v))
        .collect();
    side.sort();
    side.dedup();
    if side.len() > MAX_SIDE {
        return None;
    }
    let mut members: Vec<&Eqn> = chain.values().copied().collect();
    members.push(core.mm);
    members.extend(core.rest.iter().copied());
    let mut fast: Vec<Var> = vec![core.x, core.w];
    fast.extend(&side);
    fast.extend(core.seed);
    absorb_feeders(&mut members, eqns, outs, uses, &fast);
    members.sort_by_key(|e| position(eqns, e));
    members.dedup_by_key(|e| e.out);
    let group: HashSet<Var> = members.iter().map(|e| e.out).collect();
    // One node of the dataflow graph: no operand of a member is computed
    // from the group's values outside it.
    let downstream = downstream_of(eqns, &group);
    let operands = members.iter().flat_map(|e| e.ins.iter());
    if operands
        .filter(|v| !group.contains(v))
        .any(|v| downstream.contains(v))
    {
        return None;
    }
    if members.last().map(|e| e.out) != Some(core.root.out) {
        return None;
    }
    let mut values: Vec<Var> = chain.keys().copied().chain([y]).collect();
    values.sort();
    let tail = crate::dense_tail::find(eqns, &group, core.root.out, core.x, &values, nb);
    members.extend(&tail.eqns);
    members.sort_by_key(|e| position(eqns, e));
    let inside: HashSet<Var> = members.iter().map(|e| e.out).collect();
    let mut read: Vec<Var> = eqns
        .iter()
        .filter(|e| !inside.contains(&e.out))
        .flat_map(|e| e.ins.iter().copied())
        .chain(outs.iter().copied())
        .filter(|v| inside.contains(v))
        .collect();
    read.sort();
    read.dedup();
    let outputs: Vec<(Var, Var)> = read
        .iter()
        .map(|&v| (v, tail.alias.get(&v).copied().unwrap_or(v)))
        .collect();
    // The fast path computes the Jacobian, `y` and the chain only.
    if !outputs.iter().all(|&(_, s)| s == core.root.out || value(s)) {
        return None;
    }
    let mut kept: Vec<Var> = outputs
        .iter()
        .map(|&(_, s)| s)
        .filter(|&s| s != core.root.out)
        .collect();
    kept.sort();
    kept.dedup();
    let mut chain: Vec<&Eqn> = chain.into_values().collect();
    chain.sort_by_key(|e| position(eqns, e));
    Some(DenseJac {
        members,
        root: core.root,
        mm: core.mm,
        chain,
        u: core.u,
        x: core.x,
        w: core.w,
        seed: core.seed,
        side,
        kept,
        outputs,
    })
}

/// Adds to `members` the equations whose values only members read (every
/// use), none of them an output or an operand of the fast call (`fast`),
/// transitively: only the fallback needs them, so only the fallback
/// computes them (`jacfwd`'s `reshape(x, [-1])`, say).
fn absorb_feeders<'a>(
    members: &mut Vec<&'a Eqn>,
    eqns: &'a [Eqn],
    outs: &[Var],
    uses: &HashMap<Var, usize>,
    fast: &[Var],
) {
    let mut inside: HashSet<Var> = members.iter().map(|e| e.out).collect();
    // Later equations first: a feeder's own feeders come before it.
    for e in eqns.iter().rev() {
        if inside.contains(&e.out) || outs.contains(&e.out) || fast.contains(&e.out) {
            continue;
        }
        let reads = members
            .iter()
            .flat_map(|m| m.ins.iter())
            .filter(|v| **v == e.out)
            .count();
        if reads > 0 && uses.get(&e.out) == Some(&reads) {
            inside.insert(e.out);
            members.push(e);
        }
    }
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
    // Elementwise equations, and zeros shaped like a value of the chain
    // (the cotangent seed's zeros, which meet it when the output is scaled).
    let zeros = |p: &Prim| matches!(p, Prim::Const(Const::ZerosLike));
    let Some(e) = by_out
        .get(&v)
        .filter(|e| (e.prim.is_elementwise() || zeros(&e.prim)) && e.nb == nb)
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
        let Some(at) = order.iter().position(|e| e.out == g.root.out) else {
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
