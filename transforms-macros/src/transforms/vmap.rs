//! Batching. Every kernel takes `nb` leading batch dims that broadcast
//! left-aligned, so batching is nearly the same for every primitive: the new
//! batch dim goes in front, unbatched operands of a batched equation get a
//! leading dim of size 1, the equation's `nb` rises by one, and the
//! primitive's own batching rule (`Prim::batch`) adjusts its parameters.
//!
//! A batched var may also be a *seed*: the identity basis of a Jacobian,
//! scaled and summed (`Seed`), kept symbolic. Elementwise scaling, negation,
//! sums and `sum_to_like` act on the seed's scale; a product with a matrix
//! becomes a `DiagMatmul` row gather; anything else materialises the seed.

use std::collections::{HashMap, HashSet};

use crate::ir::{Builder, Eqn, Func, Scalar, Var};
use crate::prims::{Binary, Diag, Layout, Matmul, Prim, Relayout, Unary, WithScalar};

/// A symbolic batched var `diag(u, like, t)`: row `i` of the basis of
/// `like`'s shape times `u`, summed to `t`'s shape. `u`, `like` and `t` are
/// not batched at this level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    pub u: Var,
    pub like: Var,
    pub t: Option<Var>,
    /// `u` is all ones (a plain identity basis): a product with `y` scales
    /// the seed by `y` itself, with no multiplication by ones emitted.
    pub unit: bool,
}

impl Seed {
    /// Whether the product (or quotient) of the seed with `y` is the seed
    /// scaled by `y`: always without `t`; with `t`, when `y` is `t` itself,
    /// so of `t`'s shape and constant along the dims the seed sums over
    /// (the sum then commutes with the product). A `y` of another shape
    /// could be larger than `t`, which shapes known only at run time
    /// cannot rule out.
    fn scalable_by(self, y: Var, shapes: &Shapes) -> bool {
        self.t.is_none_or(|t| shapes.same(t, y))
    }

    fn args(self) -> Vec<Var> {
        let mut a = vec![self.u, self.like];
        a.extend(self.t);
        a
    }
}

/// Vars known to have the same shape: the result of an elementwise
/// equation of one operand (`tanh(a)`, `a * 2.0`, `a * a`), or of operands
/// known to have one shape (`a * tanh(a)`), has that shape. Each var maps
/// to the first var of its class.
#[derive(Default)]
pub struct Shapes(HashMap<Var, Var>);

impl Shapes {
    fn rep(&self, v: Var) -> Var {
        *self.0.get(&v).unwrap_or(&v)
    }

    /// Whether `a` and `b` have the same shape, as far as known.
    fn same(&self, a: Var, b: Var) -> bool {
        self.rep(a) == self.rep(b)
    }

    /// Records what `eqn` tells of its result's shape: an elementwise
    /// equation whose operands all have one shape (one operand, or several
    /// known to agree) gives its result that shape (broadcasting equal
    /// shapes changes nothing).
    fn note(&mut self, eqn: &Eqn) {
        if !eqn.prim.is_elementwise() {
            return;
        }
        let Some((&first, rest)) = eqn.ins.split_first() else {
            return;
        };
        let rep = self.rep(first);
        if rest.iter().all(|v| self.rep(*v) == rep) {
            self.0.insert(eqn.out, rep);
        }
    }
}

/// Which vars carry the new leading batch dim.
#[derive(Default)]
pub struct Batched {
    pub vars: HashSet<Var>,
    /// For a batched scan's token: which of its results are batched.
    pub results: HashMap<Var, Vec<bool>>,
    lifted: HashMap<Var, Var>,
    seeds: HashMap<Var, Seed>,
    /// Seeds whose dense form has been emitted. A seed stays symbolic for
    /// its other uses, so one use that needs it dense (say, a product with
    /// a seed as its right operand) does not make the others dense too.
    dense: HashSet<Var>,
    shapes: Shapes,
}

impl Batched {
    pub fn with(vars: impl IntoIterator<Item = Var>) -> Self {
        Batched {
            vars: vars.into_iter().collect(),
            ..Batched::default()
        }
    }

    /// A batched var that is the symbolic seed `seed`.
    pub fn seeded(v: Var, seed: Seed) -> Self {
        let mut bt = Batched::with([v]);
        bt.seeds.insert(v, seed);
        bt
    }

    /// Emits the dense form of seed `v` (defining `v`), once.
    pub(crate) fn materialize(&mut self, b: &mut Builder, v: Var) {
        if let Some(&seed) = self.seeds.get(&v)
            && self.dense.insert(v)
        {
            let prim = Prim::Diag(Diag::Embed {
                has_t: seed.t.is_some(),
                keep: 0,
            });
            b.eqns.push(Eqn {
                prim,
                ins: seed.args(),
                out: v,
                nb: 0,
                span: b.span,
            });
        }
    }

    /// Emits the structured product `prim(seed, rest..)` defining `eqn.out`
    /// (dense, batched).
    fn product(
        &mut self,
        b: &mut Builder,
        eqn: &Eqn,
        prim: Diag,
        seed: Seed,
        rest: &[Var],
    ) -> bool {
        let mut ins = seed.args();
        ins.extend_from_slice(rest);
        b.eqns.push(Eqn {
            prim: Prim::Diag(prim),
            ins,
            out: eqn.out,
            nb: 0,
            span: eqn.span,
        });
        self.vars.insert(eqn.out);
        true
    }

    /// The seed rule for `eqn` (at `nb` 0, other inputs unbatched): records
    /// the result as a new seed or emits a structured product; false when
    /// no rule applies.
    fn seed_rule(&mut self, b: &mut Builder, eqn: &Eqn) -> bool {
        let seeds: Vec<Option<Seed>> = eqn.ins.iter().map(|v| self.seeds.get(v).copied()).collect();
        let dense_batched = eqn
            .ins
            .iter()
            .zip(&seeds)
            .any(|(v, s)| s.is_none() && self.contains(*v));
        if eqn.nb != 0 || dense_batched {
            return false;
        }
        let scale = |b: &mut Builder, s: Seed, prim: Prim, other: Option<Var>| {
            let u = match (s.unit, &prim, other) {
                (true, Prim::Binary(Binary::Mul), Some(y)) => y,
                _ => {
                    let mut ins = vec![s.u];
                    ins.extend(other);
                    b.emit(prim, &ins, 0)
                }
            };
            Seed {
                u,
                unit: false,
                ..s
            }
        };
        let shapes = &self.shapes;
        let new = match (&eqn.prim, seeds.as_slice()) {
            (Prim::Unary(Unary::Neg), [Some(s)]) => scale(b, *s, eqn.prim.clone(), None),
            (Prim::WithScalar(WithScalar::MulScalar(_)), [Some(s)]) => {
                scale(b, *s, eqn.prim.clone(), None)
            }
            (Prim::Binary(Binary::Mul), [Some(s), None]) if s.scalable_by(eqn.ins[1], shapes) => {
                scale(b, *s, eqn.prim.clone(), Some(eqn.ins[1]))
            }
            (Prim::Binary(Binary::Mul), [None, Some(s)]) if s.scalable_by(eqn.ins[0], shapes) => {
                scale(b, *s, eqn.prim.clone(), Some(eqn.ins[0]))
            }
            (Prim::Binary(Binary::Div), [Some(s), None]) if s.scalable_by(eqn.ins[1], shapes) => {
                scale(b, *s, eqn.prim.clone(), Some(eqn.ins[1]))
            }
            // Seeds summed to `t`s of one shape are summed the same way.
            (Prim::Binary(Binary::Add | Binary::Sub), [Some(x), Some(y)])
                if x.like == y.like
                    && match (x.t, y.t) {
                        (None, None) => true,
                        (Some(a), Some(b)) => shapes.same(a, b),
                        _ => false,
                    } =>
            {
                let u = b.emit(eqn.prim.clone(), &[x.u, y.u], 0);
                Seed {
                    u,
                    unit: false,
                    ..*x
                }
            }
            (Prim::Relayout(Relayout::SumToLike(_)), [Some(s), None]) => Seed {
                t: Some(eqn.ins[1]),
                ..*s
            },
            (Prim::Matmul(Matmul::Mm), [Some(s), None]) => {
                let prim = Diag::Mm {
                    has_t: s.t.is_some(),
                };
                return self.product(b, eqn, prim, *s, &eqn.ins[1..]);
            }
            (Prim::Matmul(Matmul::Mm), [None, Some(s)]) => {
                let prim = Diag::MmRight {
                    has_t: s.t.is_some(),
                };
                return self.product(b, eqn, prim, *s, &eqn.ins[..1]);
            }
            (Prim::Matmul(Matmul::Tb(keep)), [None, Some(s), None]) => {
                let prim = Diag::Tb {
                    has_t: s.t.is_some(),
                    keep: *keep,
                };
                return self.product(b, eqn, prim, *s, &[eqn.ins[0], eqn.ins[2]]);
            }
            (Prim::Matmul(Matmul::Ta(keep)), [Some(s), None, None]) => {
                let prim = Diag::Ta {
                    has_t: s.t.is_some(),
                    keep: *keep,
                };
                return self.product(b, eqn, prim, *s, &eqn.ins[1..]);
            }
            _ => return false,
        };
        self.seeds.insert(eqn.out, new);
        self.vars.insert(eqn.out);
        true
    }

    pub fn contains(&self, v: Var) -> bool {
        self.vars.contains(&v)
    }

    /// `v` with a leading dim of size 1 (memoized).
    pub(crate) fn lift(&mut self, b: &mut Builder, v: Var) -> Var {
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
    // The program so far (a `jacrev`'s primal part, say) defines the
    // unbatched values that seeds meet.
    for eqn in &b.eqns {
        bt.shapes.note(eqn);
    }
    for eqn in eqns {
        bt.shapes.note(eqn);
        if !eqn.ins.iter().any(|v| bt.contains(*v)) {
            b.eqns.push(eqn.clone());
            continue;
        }
        b.span = eqn.span;
        if eqn.ins.iter().any(|v| bt.seeds.contains_key(v)) {
            if bt.seed_rule(b, eqn) {
                continue;
            }
            for v in &eqn.ins {
                bt.materialize(b, *v);
            }
        }
        match &eqn.prim {
            Prim::Scan(s) => {
                super::scan::batch(b, eqn, s, bt);
                continue;
            }
            Prim::Custom(_) | Prim::CustomLin(_) => {
                super::custom::batch(b, eqn, bt);
                continue;
            }
            Prim::Proj(k) => {
                let batched = bt.results.get(&eqn.ins[0]).is_none_or(|r| r[*k]);
                b.eqns.push(Eqn {
                    nb: eqn.nb + u8::from(batched),
                    ..eqn.clone()
                });
                if batched {
                    bt.vars.insert(eqn.out);
                }
                continue;
            }
            _ => {}
        }
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
pub fn close(b: &mut Builder, bt: &mut Batched, v: Var, reference: Var) -> Var {
    bt.materialize(b, v);
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
            let full = close(&mut b, &mut bt, o, reference);
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
