//! Batching. Every kernel takes `nb` leading batch dims that broadcast
//! left-aligned, so batching is nearly the same for every primitive: the new
//! batch dim goes in front, unbatched operands of a batched equation get a
//! leading dim of size 1, the equation's `nb` rises by one, and the
//! primitive's own batching rule (`Prim::batch`) adjusts its parameters.

use std::collections::{HashMap, HashSet};

use crate::ir::{Builder, Eqn, Func, Scalar, Var};
use crate::prims::{Layout, Prim, Relayout};

/// Which vars carry the new leading batch dim.
#[derive(Default)]
pub struct Batched {
    pub vars: HashSet<Var>,
    lifted: HashMap<Var, Var>,
}

impl Batched {
    pub fn with(vars: impl IntoIterator<Item = Var>) -> Self {
        Batched {
            vars: vars.into_iter().collect(),
            lifted: HashMap::new(),
        }
    }

    pub fn contains(&self, v: Var) -> bool {
        self.vars.contains(&v)
    }

    /// `v` with a leading dim of size 1 (memoized).
    fn lift(&mut self, b: &mut Builder, v: Var) -> Var {
        if let Some(&l) = self.lifted.get(&v) {
            return l;
        }
        let l = b.emit(Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))), &[v], 0);
        self.lifted.insert(v, l);
        l
    }
}

/// Appends the batched form of `eqns` to `b`, keeping var names.
pub fn batch_eqns(b: &mut Builder, eqns: &[Eqn], bt: &mut Batched) {
    for eqn in eqns {
        if !eqn.ins.iter().any(|v| bt.contains(*v)) {
            b.eqns.push(eqn.clone());
            continue;
        }
        b.span = eqn.span;
        let unbatched: Vec<bool> = eqn.ins.iter().map(|&v| !bt.contains(v)).collect();
        let ins: Vec<Var> = eqn
            .ins
            .iter()
            .map(|&v| if bt.contains(v) { v } else { bt.lift(b, v) })
            .collect();
        let prim = eqn.prim.batch(&unbatched);
        b.eqns.push(Eqn {
            prim,
            ins,
            nb: eqn.nb + 1,
            ..eqn.clone()
        });
        bt.vars.insert(eqn.out);
    }
}

/// Closes a batch level for output `v`: the result has the batch dim in
/// front at the full size of `reference`'s leading dim.
pub fn close(b: &mut Builder, bt: &Batched, v: Var, reference: Var) -> Var {
    let v = if bt.contains(v) {
        v
    } else {
        b.emit(Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))), &[v], 0)
    };
    b.emit(Prim::Relayout(Relayout::ExpandDim0Like), &[v, reference], 0)
}

/// `vmap(f, in_dims, out_dims)`. `in_dims` has one entry per parameter;
/// at least one tensor parameter must be mapped (checked by the caller).
pub fn vmap(f: &Func, in_dims: &[Option<isize>], out_dim: isize) -> Func {
    let mut b = Builder::new(f.next_var);
    let mut moved = Vec::new();
    for (p, d) in f.params.iter().zip(in_dims) {
        let (Some(v), Some(d)) = (p.var(), d) else {
            continue;
        };
        b.span = p.name.span();
        let m = if *d == 0 {
            v
        } else {
            b.emit(
                Prim::Layout(Layout::Movedim(Scalar::Int(*d as i64), Scalar::Int(0))),
                &[v],
                0,
            )
        };
        moved.push((v, m));
    }
    let reference = moved[0].1;
    let mut subst = HashMap::new();
    for (i, &(v, m)) in moved.iter().enumerate() {
        let m = if i == 0 {
            m
        } else {
            b.emit(Prim::Relayout(Relayout::AssertBatch), &[m, reference], 0)
        };
        subst.insert(v, m);
    }
    // Rename the mapped parameters inside the body to their moved versions.
    let body: Vec<Eqn> = f.eqns.iter().map(|e| e.renamed(&subst)).collect();
    let mut bt = Batched::with(subst.values().copied());
    batch_eqns(&mut b, &body, &mut bt);
    let outs = f
        .outs
        .iter()
        .map(|o| {
            let o = *subst.get(o).unwrap_or(o);
            let full = close(&mut b, &bt, o, reference);
            if out_dim == 0 {
                full
            } else {
                b.emit(
                    Prim::Layout(Layout::Movedim(Scalar::Int(0), Scalar::Int(out_dim as i64))),
                    &[full],
                    0,
                )
            }
        })
        .collect();
    Func {
        params: f.params.clone(),
        eqns: b.eqns,
        outs,
        tree: f.tree.clone(),
        next_var: b.next_var,
    }
}
