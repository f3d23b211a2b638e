//! Forward mode: the JVP of a program, and linearization (JVP + partial
//! evaluation into a primal part and a part linear in the tangents).

use std::collections::{HashMap, HashSet};

use super::Body;
use crate::ir::{Builder, Eqn, Func, Param, ParamKind, Tree, Var};
use crate::prims::{Const, Jvp, Prim};

/// State of a JVP pass: tangents of vars (absent = symbolic zero), the set
/// of linear vars and, for each linear var, its witness: a primal var of the
/// same shape (a linear var a JVP rule makes has its output's shape unless
/// the rule names another primal with `Jvp::shaped_like`).
#[derive(Default)]
pub struct Tangents {
    pub tan: HashMap<Var, Var>,
    pub linear: HashSet<Var>,
    pub witness: HashMap<Var, Var>,
}

impl Tangents {
    /// Seeds the tangent of primal `p` with the linear var `t`.
    pub fn seed(&mut self, p: Var, t: Var) {
        self.tan.insert(p, t);
        self.linear.insert(t);
        self.witness.insert(t, p);
    }
}

/// Appends the JVP of `eqns` to `b`: the primal equations themselves (when
/// `emit_primal`) and, for each equation with a non-zero input tangent, its
/// JVP rule's equations.
pub fn jvp_eqns(b: &mut Builder, eqns: &[Eqn], st: &mut Tangents, emit_primal: bool) {
    for eqn in eqns {
        let primal_at = emit_primal.then(|| {
            b.eqns.push(eqn.clone());
            b.eqns.len() - 1
        });
        let tans: Vec<Option<Var>> = eqn.ins.iter().map(|v| st.tan.get(v).copied()).collect();
        if tans.iter().all(Option::is_none) {
            continue;
        }
        b.span = eqn.span;
        let first_new = b.eqns.len();
        let (out_t, shaped) = match &eqn.prim {
            Prim::Scan(s) => (super::scan::jvp(b, eqn, s, &tans, primal_at), Vec::new()),
            Prim::Custom(c) => super::custom::jvp(b, eqn, c, &tans),
            Prim::CustomLin(c) => {
                // Differentiate the derived forward map in its place.
                if let Some((eqns, last)) = super::custom::expand_lin(b, eqn, c) {
                    jvp_eqns(b, &eqns, st, true);
                    if let Some(&t) = st.tan.get(&last) {
                        st.tan.insert(eqn.out, t);
                    }
                } else {
                    // A tangent whose emission reports why it has no rule.
                    let t = b.emit(eqn.prim.clone(), &eqn.ins, eqn.nb);
                    st.tan.insert(eqn.out, t);
                }
                continue;
            }
            p => {
                let mut cx = Jvp {
                    b,
                    eqn,
                    shaped: Vec::new(),
                };
                let t = p.jvp(&mut cx, &tans);
                (t, cx.shaped)
            }
        };
        for new in &b.eqns[first_new..] {
            if new.ins.iter().any(|v| st.linear.contains(v)) {
                st.linear.insert(new.out);
                st.witness.insert(new.out, eqn.out);
            }
        }
        for (v, like) in shaped {
            if st.linear.contains(&v) {
                st.witness.insert(v, like);
            }
        }
        if let Some(t) = out_t {
            st.tan.insert(eqn.out, t);
        }
    }
}

/// `jvp(f, argnums)`: parameters `f.params ++ tangents`, outputs `(f.outs, tangent outs)`.
pub fn jvp(f: &Func, argnums: &[usize]) -> Func {
    let mut b = Builder::new(f.next_var);
    let mut st = Tangents::default();
    let mut params = f.params.clone();
    let taken: HashSet<String> = f.params.iter().map(|p| p.name.to_string()).collect();
    for &i in argnums {
        let p = &f.params[i];
        let Some(pv) = p.var() else { continue };
        let t = b.fresh();
        st.seed(pv, t);
        let mut name = format!("{}_tangent", p.name);
        while taken.contains(&name) {
            name.push('_');
        }
        params.push(Param {
            name: syn::Ident::new(&name, p.name.span()),
            ty: p.ty.clone(),
            kind: ParamKind::Tensor(t),
        });
    }
    jvp_eqns(&mut b, &f.eqns, &mut st, true);
    let n = f.outs.len();
    let mut outs = f.outs.clone();
    for &o in &f.outs {
        let t = match st.tan.get(&o) {
            Some(&t) => t,
            None => b.emit(Prim::Const(Const::ZerosLike), &[o], 0),
        };
        outs.push(t);
    }
    let tangent_tree = f.tree.map_leaves(&mut |i| Tree::Leaf(i + n));
    Func {
        params,
        eqns: b.eqns,
        outs,
        tree: Tree::Tuple(vec![f.tree.clone(), tangent_tree]),
        next_var: b.next_var,
    }
}

/// A program split into its primal part and its part linear in the tangents.
pub struct Linearized {
    pub primal: Vec<Eqn>,
    pub linear: Vec<Eqn>,
    /// Tangent of each output of `f` (None: symbolic zero).
    pub out_tans: Vec<Option<Var>>,
    /// Tangent input var for each argnum.
    pub in_tans: Vec<Var>,
    pub st: Tangents,
}

/// Linearizes `f` in the tensor parameters `argnums`.
pub fn linearize(b: &mut Builder, f: &Func, argnums: &[usize]) -> Linearized {
    let mut st = Tangents::default();
    let mut in_tans = Vec::new();
    for &i in argnums {
        let t = b.fresh();
        if let Some(pv) = f.params[i].var() {
            st.seed(pv, t);
        }
        in_tans.push(t);
    }
    let (_, eqns) = b.scoped(|b| jvp_eqns(b, &f.eqns, &mut st, true));
    let (linear, primal) = eqns.into_iter().partition(|e| st.linear.contains(&e.out));
    let out_tans = f.outs.iter().map(|o| st.tan.get(o).copied()).collect();
    Linearized {
        primal,
        linear,
        out_tans,
        in_tans,
        st,
    }
}

/// The parts of `linearize(f, argnums)` (JAX): the forward program
/// (outputs of `f` followed by the residuals) and the linear part alone,
/// from one tangent per argnum to one tangent per output. The primal is
/// never recomputed: everything the linear part needs is a residual.
pub struct LinearizeParts {
    pub forward: Func,
    pub n_outs: usize,
    pub residuals: Vec<Var>,
    /// The tangent input var of each argnum.
    pub tangents: Vec<Var>,
    pub linear: Body,
}

pub fn linearize_parts(f: &Func, argnums: &[usize]) -> LinearizeParts {
    let mut b = Builder::new(f.next_var);
    let lin = linearize(&mut b, f, argnums);
    let (outs, zeros) = b.scoped(|b| {
        lin.out_tans
            .iter()
            .zip(&f.outs)
            .map(|(t, &o)| match t {
                Some(t) => *t,
                None => b.emit(Prim::Const(Const::ZerosLike), &[o], 0),
            })
            .collect::<Vec<Var>>()
    });
    let mut eqns = lin.linear;
    eqns.extend(zeros);
    let mut linear = Body { eqns, outs };
    linear.optimize();
    let (forward, residuals) =
        super::forward_program(f, lin.primal, &[&linear], &lin.in_tans, b.next_var);
    LinearizeParts {
        forward,
        n_outs: f.outs.len(),
        residuals,
        tangents: lin.in_tans,
        linear,
    }
}
