//! The shape ops after a dense layer's Jacobian group that change nothing
//! where the runtime's one call runs. `jacrev` ends with `reshape(o, [-1])`,
//! `expand_dim0_like(j, ..)` and `unflatten_like(j, 0, o)` (and `vmap` with
//! an `expand_dim0_like` against the batched input): on `ops::dense_jac`'s
//! fast path the Jacobian is `[.., n, k]` and the primal output `[.., n]`,
//! so each returns its input as it is, yet each is a call (checks, a
//! reference count, a shape) and the primal output is a tensor to allocate
//! only for its shape. [`find`] proves them identities from the shapes the
//! fast path gives (symbolically: the batch dims, `n` and `k`), so the group
//! takes them: the fallback computes them as before, the fast path binds
//! their vars to the values they equal.

use std::collections::{HashMap, HashSet};

use crate::ir::{Eqn, Scalar, Var};
use crate::prims::{Layout, Prim, Relayout};

/// A dim of a value's shape on the fast path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dim {
    /// Batch dim `i` of the layer's input.
    Batch(u8),
    /// The layer's output size.
    N,
    /// The layer's input size.
    K,
}

/// The identities after a group.
pub struct Tail<'a> {
    /// The equations, in program order.
    pub eqns: Vec<&'a Eqn>,
    /// Each tail var's value on the fast path: the group's Jacobian or a
    /// value of its chain.
    pub alias: HashMap<Var, Var>,
}

/// The equations of `eqns` outside the group (`group` its vars) that are
/// identities on the fast path, transitively: `reshape(v, [-1])` of a
/// one-dim value, `expand_dim0_like(v, r)` where `r`'s dim 0 is `v`'s, and
/// `unflatten_like(v, d, r)` where `r` is one dim of `v`'s dim `d`. There
/// the Jacobian `jac` is `[b.., n, k]` (`nb` batch dims), each of `values`
/// (`y` and the chain) `[b.., n]` and the input `x` `[b.., k]`; any other
/// operand is unknown, so no equation reading it is taken.
pub fn find<'a>(
    eqns: &'a [Eqn],
    group: &HashSet<Var>,
    jac: Var,
    x: Var,
    values: &[Var],
    nb: u8,
) -> Tail<'a> {
    let batch: Vec<Dim> = (0..nb).map(Dim::Batch).collect();
    let with = |tail: &[Dim]| -> Vec<Dim> { batch.iter().chain(tail).copied().collect() };
    let mut shapes: HashMap<Var, Vec<Dim>> = HashMap::new();
    let mut alias: HashMap<Var, Var> = HashMap::new();
    for &v in values {
        shapes.insert(v, with(&[Dim::N]));
        alias.insert(v, v);
    }
    shapes.insert(jac, with(&[Dim::N, Dim::K]));
    alias.insert(jac, jac);
    if !alias.contains_key(&x) {
        shapes.insert(x, with(&[Dim::K]));
    }
    let mut tail = Vec::new();
    for e in eqns {
        if group.contains(&e.out) || shapes.contains_key(&e.out) {
            continue;
        }
        let Some(&src) = e.ins.first().and_then(|v| alias.get(v)) else {
            continue;
        };
        let known: Option<Vec<&[Dim]>> = e
            .ins
            .iter()
            .map(|v| {
                shapes
                    .get(v)
                    .map(|s| s.get(e.nb as usize..).unwrap_or_default())
            })
            .collect();
        let Some(pe) = known.filter(|k| k.iter().all(|s| !s.is_empty())) else {
            continue;
        };
        if identity(&e.prim, &pe) {
            let shape = shapes[&e.ins[0]].clone();
            shapes.insert(e.out, shape);
            alias.insert(e.out, src);
            tail.push(e);
        }
    }
    Tail { eqns: tail, alias }
}

/// Whether `prim` returns its first operand unchanged given its operands'
/// per-example shapes `pe` (each non-empty), as the runtime op decides it.
fn identity(prim: &Prim, pe: &[&[Dim]]) -> bool {
    match (prim, pe) {
        (Prim::Layout(Layout::Reshape(dims)), [p]) => {
            matches!(dims[..], [Scalar::Int(-1)]) && p.len() == 1
        }
        (Prim::Relayout(Relayout::ExpandDim0Like), [p, r]) => p[0] == r[0],
        (Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(d))), [p, r]) => {
            let d = if *d < 0 { *d + p.len() as i64 } else { *d };
            usize::try_from(d).is_ok_and(|d| d < p.len() && r[..] == [p[d]])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dim::{Batch, K, N};

    #[test]
    fn only_provable_identities() {
        let reshape = Prim::Layout(Layout::Reshape(vec![Scalar::Int(-1)]));
        assert!(identity(&reshape, &[&[N]]));
        assert!(!identity(&reshape, &[&[N, K]]));
        let other = Prim::Layout(Layout::Reshape(vec![Scalar::Int(1), Scalar::Int(-1)]));
        assert!(!identity(&other, &[&[N]]));
        let expand = Prim::Relayout(Relayout::ExpandDim0Like);
        assert!(identity(&expand, &[&[N, K], &[N]]));
        assert!(identity(&expand, &[&[Batch(0), N, K], &[Batch(0), K]]));
        // Equal sizes are not provable: `n` may differ from `k`.
        assert!(!identity(&expand, &[&[N, K], &[K]]));
        let unflatten = |d| Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(d)));
        assert!(identity(&unflatten(0), &[&[N, K], &[N]]));
        assert!(identity(&unflatten(-1), &[&[N, K], &[K]]));
        assert!(!identity(&unflatten(1), &[&[N, K], &[N]]));
        assert!(!identity(&unflatten(0), &[&[N, K], &[N, K]]));
        assert!(!identity(&unflatten(2), &[&[N, K], &[K]]));
        assert!(!identity(&unflatten(-3), &[&[N, K], &[N]]));
    }
}
