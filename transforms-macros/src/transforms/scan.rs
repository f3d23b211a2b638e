//! The rules of `scan` (see `prims::scan`), which apply the transforms to
//! the loop's body:
//! - JVP = linearize the body, then split (partial evaluation): a primal
//!   scan that also stacks, per iteration, the residuals the linear part
//!   reads, and a tangent scan that is linear in the tangents and reads the
//!   residual stacks. Carries whose tangent becomes non-zero inside the
//!   loop are found by a fixpoint.
//! - Transpose (of a tangent scan) = the reversed scan of the transposed
//!   body: output cotangents become the carry, cotangents of constants
//!   accumulate in extra carries, cotangents of stacked inputs are stacked.
//! - Batching = the batched body; carries that become batched inside the
//!   loop are found by a fixpoint and their initial values lifted.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use quote::{format_ident, quote};

use super::jvp::{Linearized, Tangents, linearize};
use super::transpose::transpose;
use super::vmap::{Batched, batch_eqns};
use crate::ir::{Builder, Eqn, Func, Param, ParamKind, Tree, Var};
use crate::opt;
use crate::prims::scan::{LinInfo, Scan, fresh_id};
use crate::prims::{Binary, Const, Jvp, Prim};

fn tensor_param(v: Var) -> Param {
    Param {
        name: format_ident!("p{}", v.0),
        ty: quote!(Tensor),
        kind: ParamKind::Tensor(v),
    }
}

/// A body: the index parameter of `s`, then `params`.
pub fn body_func(
    s_index: &syn::Ident,
    params: &[Var],
    eqns: Vec<Eqn>,
    outs: Vec<Var>,
    next_var: u32,
) -> Func {
    let mut all = vec![Param {
        name: s_index.clone(),
        ty: quote!(usize),
        kind: ParamKind::Scalar,
    }];
    all.extend(params.iter().copied().map(tensor_param));
    let (mut eqns, mut outs) = (eqns, outs);
    opt::optimize(&mut eqns, &mut outs);
    Func {
        params: all,
        tree: Tree::Tuple((0..outs.len()).map(Tree::Leaf).collect()),
        eqns,
        outs,
        next_var,
    }
}

/// A body of tensor parameters only (custom rules).
pub fn plain_func(params: &[Var], eqns: Vec<Eqn>, outs: Vec<Var>, next_var: u32) -> Func {
    let (mut eqns, mut outs) = (eqns, outs);
    opt::optimize(&mut eqns, &mut outs);
    Func {
        params: params.iter().copied().map(tensor_param).collect(),
        tree: Tree::Tuple((0..outs.len()).map(Tree::Leaf).collect()),
        eqns,
        outs,
        next_var,
    }
}

/// `body` batched with its tensor parameters flagged in `flags` batched;
/// outputs flagged in `force` are made batched (lifted). Returns the new
/// body and which outputs are batched.
pub fn batch_body(
    b: &mut Builder,
    body: &Func,
    flags: &[bool],
    force: &[bool],
) -> (Func, Vec<bool>) {
    let params: Vec<Var> = body.params.iter().filter_map(|p| p.var()).collect();
    let ((outs, out_flags), eqns) = b.scoped(|b| {
        let mut inner = Batched::with(
            params
                .iter()
                .zip(flags)
                .filter(|(_, f)| **f)
                .map(|(p, _)| *p),
        );
        batch_eqns(b, &body.eqns, &mut inner);
        let mut out_flags = Vec::new();
        let outs: Vec<Var> = body
            .outs
            .iter()
            .enumerate()
            .map(|(r, &o)| {
                inner.materialize(b, o);
                let o = if force.get(r).copied().unwrap_or(false) && !inner.contains(o) {
                    inner.lift(b, o)
                } else {
                    o
                };
                out_flags.push(inner.contains(o));
                o
            })
            .collect();
        (outs, out_flags)
    });
    let (mut eqns, mut outs) = (eqns, outs);
    opt::optimize(&mut eqns, &mut outs);
    let f = Func {
        params: body.params.clone(),
        tree: Tree::Tuple((0..outs.len()).map(Tree::Leaf).collect()),
        eqns,
        outs,
        next_var: b.next_var,
    };
    (f, out_flags)
}

/// A new scan like `s` (range, index, direction) with another body.
fn derived(s: &Scan, body: Func, counts: (usize, usize, usize), reverse: bool) -> Scan {
    Scan {
        id: fresh_id(),
        start: s.start.clone(),
        end: s.end.clone(),
        index: s.index.clone(),
        reverse,
        n_carry: counts.0,
        n_const: counts.1,
        n_xs: counts.2,
        body,
        tangent_slot: Vec::new(),
        lin: None,
        record: s.record.clone(),
    }
}

/// Body parameter positions (1-based: 0 is the index) with `flags` set.
fn argnums(flags: &[bool]) -> Vec<usize> {
    (0..flags.len())
        .filter(|&i| flags[i])
        .map(|i| i + 1)
        .collect()
}

/// The JVP of scan `eqn`; `primal_at` is where its primal copy was pushed
/// (replaced by the residual-stacking primal scan). Returns the tangent
/// scan's token.
pub fn jvp(
    b: &mut Builder,
    eqn: &Eqn,
    s: &Scan,
    tans: &[Option<Var>],
    primal_at: Option<usize>,
) -> Option<Var> {
    let (nc, nk, nx) = (s.n_carry, s.n_const, s.n_xs);
    let n_ys = s.n_ys();
    let params = s.body_params();
    let mut nz: Vec<bool> = tans.iter().map(Option::is_some).collect();
    loop {
        let lin = linearize(b, &s.body, &argnums(&nz));
        let mut changed = false;
        for (flag, t) in nz.iter_mut().zip(&lin.out_tans).take(nc) {
            if t.is_some() && !*flag {
                *flag = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let an = argnums(&nz);
    let lin = linearize(b, &s.body, &an);
    let tan_of: HashMap<usize, Var> = an
        .iter()
        .zip(&lin.in_tans)
        .map(|(&a, &t)| (a - 1, t))
        .collect();
    let ys_nz: Vec<bool> = (0..n_ys).map(|k| lin.out_tans[nc + k].is_some()).collect();
    // Zero tangents for carries whose body output has none.
    let mut lin_eqns = lin.linear.clone();
    let mut carry_tan_out = Vec::new();
    for j in (0..nc).filter(|&j| nz[j]) {
        match lin.out_tans[j] {
            Some(t) => carry_tan_out.push(t),
            None => {
                let z = b.fresh();
                lin_eqns.push(Eqn {
                    prim: Prim::Const(Const::ZerosLike),
                    ins: vec![s.body.outs[j]],
                    out: z,
                    nb: eqn.nb,
                    span: eqn.span,
                });
                carry_tan_out.push(z);
            }
        }
    }
    // Residuals: the primal vars the linear part (and its transposition) reads.
    let mut res: Vec<Var> = Vec::new();
    let mut need = |v: Var| {
        if !res.contains(&v) {
            res.push(v);
        }
    };
    for e in &lin_eqns {
        for v in e.ins.iter().chain([&e.out]) {
            if !lin.st.linear.contains(v) {
                need(*v);
            }
            if let Some(w) = lin.st.witness.get(v) {
                need(*w);
            }
        }
    }
    for t in &lin.in_tans {
        if let Some(w) = lin.st.witness.get(t) {
            need(*w);
        }
    }
    // Scan tokens are not values (their results are read through `proj`).
    let tokens: HashSet<Var> = lin
        .primal
        .iter()
        .filter(|e| matches!(e.prim, Prim::Scan(_)))
        .map(|e| e.out)
        .collect();
    let defined_lin: HashSet<Var> = lin_eqns.iter().map(|e| e.out).collect();
    res.retain(|v| !defined_lin.contains(v) && !tokens.contains(v));
    let const_params = &params[nc..nc + nk];
    let (r_const, r_stack): (Vec<Var>, Vec<Var>) =
        res.iter().partition(|v| const_params.contains(v));
    // The primal scan: the original results, then the residual stacks.
    let mut p_outs = s.body.outs.clone();
    p_outs.extend(&r_stack);
    let p_body = body_func(&s.index, &params, lin.primal.clone(), p_outs, b.next_var);
    let p_scan = Scan {
        body: p_body,
        ..derived(s, Func::empty(), (nc, nk, nx), s.reverse)
    };
    let p_eqn = Eqn {
        prim: Prim::Scan(Rc::new(p_scan)),
        ..eqn.clone()
    };
    let tok = match primal_at {
        Some(i) => {
            b.eqns[i] = p_eqn;
            eqn.out
        }
        None => {
            let t = b.fresh();
            b.eqns.push(Eqn { out: t, ..p_eqn });
            t
        }
    };
    let stacks: Vec<Var> = (0..r_stack.len())
        .map(|k| b.emit(Prim::Proj(nc + n_ys + k), &[tok], eqn.nb))
        .collect();
    // The tangent scan.
    let pick = |range: std::ops::Range<usize>| -> Vec<usize> { range.filter(|&i| nz[i]).collect() };
    let (tc, tk, tx) = (pick(0..nc), pick(nc..nc + nk), pick(nc + nk..nc + nk + nx));
    let mut l_params: Vec<Var> = tc.iter().map(|i| tan_of[i]).collect();
    l_params.extend(tk.iter().map(|i| tan_of[i]));
    l_params.extend(&r_const);
    l_params.extend(tx.iter().map(|i| tan_of[i]));
    l_params.extend(&r_stack);
    let mut linear_params = vec![true; tc.len() + tk.len()];
    linear_params.extend(vec![false; r_const.len()]);
    linear_params.extend(vec![true; tx.len()]);
    linear_params.extend(vec![false; r_stack.len()]);
    let mut l_outs = carry_tan_out;
    l_outs.extend((0..n_ys).filter_map(|k| lin.out_tans[nc + k]));
    let l_body = body_func(&s.index, &l_params, lin_eqns, l_outs, b.next_var);
    let mut next = 0;
    let slot: Vec<Option<usize>> = nz[..nc]
        .iter()
        .chain(&ys_nz)
        .map(|&has| {
            has.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let l_scan = Scan {
        body: l_body,
        tangent_slot: slot,
        lin: Some(LinInfo {
            linear: lin.st.linear.clone(),
            witness: lin.st.witness.clone(),
            linear_params,
        }),
        ..derived(
            s,
            Func::empty(),
            (tc.len(), tk.len() + r_const.len(), tx.len() + r_stack.len()),
            s.reverse,
        )
    };
    let mut ins: Vec<Var> = tc
        .iter()
        .map(|&j| match tans[j] {
            Some(t) => t,
            None => b.emit(Prim::Const(Const::ZerosLike), &[eqn.ins[j]], eqn.nb),
        })
        .collect();
    ins.extend(tk.iter().filter_map(|&i| tans[i]));
    ins.extend(
        r_const
            .iter()
            .map(|v| eqn.ins[params.iter().position(|p| p == v).unwrap_or(0)]),
    );
    ins.extend(tx.iter().filter_map(|&i| tans[i]));
    ins.extend(&stacks);
    Some(b.emit(Prim::Scan(Rc::new(l_scan)), &ins, eqn.nb))
}

/// The tangent of result `k` of a scan whose tangent scan is `tan`.
pub fn proj_jvp(cx: &mut Jvp, k: usize, tan: Option<Var>) -> Option<Var> {
    let tok = tan?;
    let slot =
        cx.b.eqns
            .iter()
            .rev()
            .find(|e| e.out == tok)
            .and_then(|e| match &e.prim {
                Prim::Scan(s) => s.tangent_slot.get(k).copied().flatten(),
                _ => None,
            })?;
    Some(cx.emit(Prim::Proj(slot), &[tok]))
}

/// The transpose of tangent scan `eqn`, given the cotangents of its results
/// (`ct(r)`); returns the cotangent of each input (None: not linear).
pub fn transpose_scan(
    b: &mut Builder,
    eqn: &Eqn,
    s: &Scan,
    ct: &dyn Fn(usize) -> Option<Var>,
    is_linear: &dyn Fn(Var) -> bool,
    witness: &dyn Fn(Var) -> Var,
) -> Result<Vec<Option<Var>>, String> {
    let Some(info) = &s.lin else {
        return Err("transforms: internal error: a loop that is not linear was transposed".into());
    };
    let (nc, nk, nx) = (s.n_carry, s.n_const, s.n_xs);
    let n_ys = s.n_ys();
    let params = s.body_params();
    let lp = &info.linear_params;
    let k_lin: Vec<usize> = (nc..nc + nk).filter(|&i| lp[i]).collect();
    let k_non: Vec<usize> = (nc..nc + nk).filter(|&i| !lp[i]).collect();
    let x_lin: Vec<usize> = (nc + nk..nc + nk + nx).filter(|&i| lp[i]).collect();
    let x_non: Vec<usize> = (nc + nk..nc + nk + nx).filter(|&i| !lp[i]).collect();
    let (lin_eqns, prim_eqns): (Vec<Eqn>, Vec<Eqn>) = s
        .body
        .eqns
        .iter()
        .cloned()
        .partition(|e| info.linear.contains(&e.out));
    // Body cotangent seeds: the carry (a parameter of the reversed body) and
    // the present output stacks' slices.
    let ct_c: Vec<Var> = (0..nc).map(|_| b.fresh()).collect();
    let ys_present: Vec<usize> = (0..n_ys).filter(|&k| ct(nc + k).is_some()).collect();
    let ct_y: Vec<Var> = ys_present.iter().map(|_| b.fresh()).collect();
    let mut seeds = vec![None; nc + n_ys];
    for j in 0..nc {
        seeds[j] = Some(ct_c[j]);
    }
    for (i, &k) in ys_present.iter().enumerate() {
        seeds[nc + k] = Some(ct_y[i]);
    }
    let in_idx: Vec<usize> = (0..nc)
        .chain(k_lin.iter().copied())
        .chain(x_lin.iter().copied())
        .collect();
    let body_lin = Linearized {
        primal: Vec::new(),
        linear: lin_eqns,
        out_tans: s
            .body
            .outs
            .iter()
            .map(|o| info.linear.contains(o).then_some(*o))
            .collect(),
        in_tans: in_idx.iter().map(|&i| params[i]).collect(),
        st: Tangents {
            tan: HashMap::new(),
            linear: info.linear.clone(),
            witness: info.witness.clone(),
        },
    };
    let (cts_in, t_eqns) = b.scoped(|b| transpose(b, &body_lin, &seeds));
    let cts_in = cts_in?;
    let acc: Vec<Var> = k_lin.iter().map(|_| b.fresh()).collect();
    let mut eqns = prim_eqns;
    eqns.extend(t_eqns);
    let mut outs: Vec<Var> = cts_in[..nc].to_vec();
    for (i, a) in acc.iter().enumerate() {
        let sum = b.fresh();
        eqns.push(Eqn {
            prim: Prim::Binary(Binary::Add),
            ins: vec![*a, cts_in[nc + i]],
            out: sum,
            nb: eqn.nb,
            span: eqn.span,
        });
        outs.push(sum);
    }
    outs.extend(&cts_in[nc + k_lin.len()..]);
    let mut t_params = ct_c.clone();
    t_params.extend(&acc);
    t_params.extend(k_non.iter().map(|&i| params[i]));
    t_params.extend(&ct_y);
    t_params.extend(x_non.iter().map(|&i| params[i]));
    let t_body = body_func(&s.index, &t_params, eqns, outs, b.next_var);
    let t_scan = Scan {
        body: t_body,
        ..derived(
            s,
            Func::empty(),
            (nc + acc.len(), k_non.len(), ct_y.len() + x_non.len()),
            !s.reverse,
        )
    };
    // Outer inputs: final-carry cotangents (zero when absent), zero
    // accumulators, the non-linear constants and stacks.
    let mut ins: Vec<Var> = (0..nc)
        .map(|j| match ct(j) {
            Some(c) => c,
            None => b.emit(
                Prim::Const(Const::ZerosLike),
                &[witness(eqn.ins[j])],
                eqn.nb,
            ),
        })
        .collect();
    ins.extend(k_lin.iter().map(|&i| {
        b.emit(
            Prim::Const(Const::ZerosLike),
            &[witness(eqn.ins[i])],
            eqn.nb,
        )
    }));
    ins.extend(k_non.iter().map(|&i| eqn.ins[i]));
    ins.extend(ys_present.iter().filter_map(|&k| ct(nc + k)));
    ins.extend(x_non.iter().map(|&i| eqn.ins[i]));
    let tok = b.emit(Prim::Scan(Rc::new(t_scan)), &ins, eqn.nb);
    let mut result = vec![None; eqn.ins.len()];
    let mut take = |b: &mut Builder, input: usize, k: usize| {
        if is_linear(eqn.ins[input]) {
            result[input] = Some(b.emit(Prim::Proj(k), &[tok], eqn.nb));
        }
    };
    for j in 0..nc {
        take(b, j, j);
    }
    for (i, &inp) in k_lin.iter().enumerate() {
        take(b, inp, nc + i);
    }
    for (i, &inp) in x_lin.iter().enumerate() {
        take(b, inp, nc + k_lin.len() + i);
    }
    Ok(result)
}

/// The batching rule of scan `eqn` (some inputs batched per `bt`).
pub fn batch(b: &mut Builder, eqn: &Eqn, s: &Scan, bt: &mut Batched) {
    let nc = s.n_carry;
    let mut flags: Vec<bool> = eqn.ins.iter().map(|v| bt.contains(*v)).collect();
    // Carries that become batched in the body are batched from the start.
    let (body, out_flags) = loop {
        let force = flags[..nc].to_vec();
        let (body, o) = batch_body(b, &s.body, &flags, &force);
        let mut changed = false;
        for (flag, out) in flags.iter_mut().zip(&o).take(nc) {
            if *out && !*flag {
                *flag = true;
                changed = true;
            }
        }
        if !changed {
            break (body, o);
        }
    };
    let scan = Scan {
        body,
        tangent_slot: s.tangent_slot.clone(),
        ..derived(s, Func::empty(), (s.n_carry, s.n_const, s.n_xs), s.reverse)
    };
    let ins: Vec<Var> = eqn
        .ins
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i < nc && flags[i] && !bt.contains(v) {
                bt.lift(b, v)
            } else {
                v
            }
        })
        .collect();
    b.eqns.push(Eqn {
        prim: Prim::Scan(Rc::new(scan)),
        ins,
        nb: eqn.nb + 1,
        ..eqn.clone()
    });
    bt.vars.insert(eqn.out);
    let mut result_flags: Vec<bool> = flags[..nc].to_vec();
    result_flags.extend(&out_flags[nc..]);
    bt.results.insert(eqn.out, result_flags);
}
