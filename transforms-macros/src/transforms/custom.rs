//! The rules of the custom-rule primitives (see `prims::custom`).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::jvp::linearize;
use super::scan::batch_body;
use super::transpose::transpose;
use super::vmap::Batched;
use crate::ir::{Builder, Eqn, Func, Var};
use crate::prims::custom::{Custom, CustomLin, Rule};
use crate::prims::scan::fresh_id;
use crate::prims::{Const, Cts, Prim, Transpose};

/// Inlines `body` with its tensor parameters bound to `ins`; returns its
/// outputs. `linear` (outer linear vars, grown with the new ones) and
/// `witness` (of each linear var, a primal var of its shape): for each new
/// linear var a shadow equation on the witnesses gives its witness.
fn inline(
    b: &mut Builder,
    body: &Func,
    ins: &[Var],
    mut lin: Option<(&mut HashSet<Var>, &mut HashMap<Var, Var>)>,
) -> Vec<Var> {
    let mut map: HashMap<Var, Var> = body
        .params
        .iter()
        .filter_map(|p| p.var())
        .zip(ins.iter().copied())
        .collect();
    let span = b.span;
    for e in &body.eqns {
        let renamed = e.renamed(&map);
        let out = b.fresh();
        map.insert(e.out, out);
        let eqn = Eqn {
            out,
            span,
            ..renamed
        };
        if let Some((linear, witness)) = lin.as_mut()
            && eqn.ins.iter().any(|v| linear.contains(v))
        {
            let shadow_ins: Vec<Var> = eqn
                .ins
                .iter()
                .map(|v| *witness.get(v).unwrap_or(v))
                .collect();
            let shadow = b.fresh();
            b.eqns.push(Eqn {
                ins: shadow_ins,
                out: shadow,
                ..eqn.clone()
            });
            linear.insert(out);
            witness.insert(out, shadow);
        }
        b.eqns.push(eqn);
    }
    body.outs.iter().map(|o| *map.get(o).unwrap_or(o)).collect()
}

/// Tangents for every input (zeros for the symbolic ones).
fn concrete(b: &mut Builder, eqn: &Eqn, tans: &[Option<Var>]) -> Vec<Var> {
    tans.iter()
        .zip(&eqn.ins)
        .map(|(t, x)| match t {
            Some(t) => *t,
            None => b.emit(Prim::Const(Const::ZerosLike), &[*x], eqn.nb),
        })
        .collect()
}

/// The JVP of a custom-rule equation: the tangent, and the witnesses of the
/// linear vars it made whose shape is not the output's.
pub fn jvp(
    b: &mut Builder,
    eqn: &Eqn,
    c: &Custom,
    tans: &[Option<Var>],
) -> (Option<Var>, Vec<(Var, Var)>) {
    let t_ins = concrete(b, eqn, tans);
    match &c.rule {
        Rule::Jvp(rule) => {
            let mut linear: HashSet<Var> = tans.iter().flatten().copied().collect();
            let mut witness: HashMap<Var, Var> = tans
                .iter()
                .zip(&eqn.ins)
                .filter_map(|(t, x)| t.map(|t| (t, *x)))
                .collect();
            let mut ins = eqn.ins.clone();
            ins.extend(&t_ins);
            let outs = inline(b, rule, &ins, Some((&mut linear, &mut witness)));
            let t = outs[1];
            let shaped = witness
                .into_iter()
                .filter(|(v, _)| !tans.contains(&Some(*v)) && *v != t)
                .collect();
            (Some(t), shaped)
        }
        Rule::Vjp { fwd, bwd } => {
            let outs = inline(b, fwd, &eqn.ins, None);
            let mut ins = t_ins;
            ins.extend(&outs[1..]);
            ins.push(eqn.out);
            let lin = CustomLin {
                id: fresh_id(),
                name: c.name.clone(),
                n_in: eqn.ins.len(),
                bwd: bwd.clone(),
                fwd_map: derive_forward(b, bwd, eqn.ins.len()),
                span: eqn.span,
            };
            (
                Some(b.emit(Prim::CustomLin(Rc::new(lin)), &ins, eqn.nb)),
                Vec::new(),
            )
        }
    }
}

/// The forward map `t_x -> t_y` of a backward rule `ct -> ct_x` that is
/// linear in `ct`: its transpose. Parameters `t_x.., residuals.., y`.
fn derive_forward(b: &mut Builder, bwd: &Func, n_in: usize) -> Result<Func, String> {
    let params: Vec<Var> = bwd.params.iter().filter_map(|p| p.var()).collect();
    let Some(&ct) = params.last() else {
        return Err("the backward rule takes no cotangent".into());
    };
    let ct_pos = bwd.params.len();
    let lin = linearize(b, bwd, &[ct_pos - 1]);
    // Linear in `ct`: the linear part reads values computed from `ct` only
    // for their shapes.
    let mut dep: HashMap<Var, String> = HashMap::from([(ct, "the identity".to_string())]);
    for e in &lin.primal {
        if e.ins.iter().any(|v| dep.contains_key(v)) {
            dep.insert(e.out, e.prim.name());
        }
    }
    for e in &lin.linear {
        for (i, v) in e.ins.iter().enumerate() {
            let shape_only =
                matches!(e.prim, Prim::Const(_)) || (matches!(e.prim, Prim::Relayout(_)) && i > 0);
            if let Some(what) = dep.get(v)
                && !lin.st.linear.contains(v)
                && !shape_only
                && *v != ct
            {
                return Err(format!("it applies `{what}` to the cotangent"));
            }
            if *v == ct && !shape_only {
                return Err("it multiplies the cotangent by itself".into());
            }
        }
    }
    let t_x: Vec<Var> = (0..n_in).map(|_| b.fresh()).collect();
    let seeds: Vec<Option<Var>> = t_x.iter().map(|&t| Some(t)).collect();
    let (t_y, t_eqns) = b.scoped(|b| transpose(b, &lin, &seeds));
    let t_y = t_y?;
    let mut eqns = lin.primal.clone();
    eqns.extend(t_eqns);
    let mut all = t_x;
    all.extend(&params);
    Ok(super::scan::plain_func(
        &all,
        eqns,
        vec![t_y[0]],
        b.next_var,
    ))
}

/// The transpose of `custom_lin`: the user's backward rule, inlined.
pub fn transpose_lin(cx: &mut Transpose, c: &CustomLin, ct: Var) -> Result<Cts, String> {
    let n = c.n_in;
    let mut ins: Vec<Var> = cx.eqn.ins[n..cx.eqn.ins.len() - 1].to_vec();
    ins.push(ct);
    let outs = inline(cx.b, &c.bwd, &ins, None);
    if outs.len() != n {
        return Err(format!(
            "the backward rule of `{}` returns {} cotangent(s) for {n} input(s)",
            c.name,
            outs.len()
        ));
    }
    let mut cts: Cts = (0..n).map(|i| cx.linear[i].then_some(outs[i])).collect();
    cts.extend(vec![None; cx.eqn.ins.len() - n]);
    Ok(cts)
}

/// The JVP of `custom_lin` itself (a tangent program differentiated again)
/// is that of its derived forward map: its equations, inlined with fresh
/// vars, and the var of its result. `None` when the map could not be
/// derived (the call then reports why).
pub fn expand_lin(b: &mut Builder, eqn: &Eqn, c: &CustomLin) -> Option<(Vec<Eqn>, Var)> {
    let f = c.fwd_map.as_ref().ok()?;
    let (outs, eqns) = b.scoped(|b| inline(b, f, &eqn.ins, None));
    Some((eqns, outs[0]))
}

/// The batching rule of a custom-rule equation: its bodies batched alike.
pub fn batch(b: &mut Builder, eqn: &Eqn, bt: &mut Batched) {
    let flags: Vec<bool> = eqn.ins.iter().map(|v| bt.contains(*v)).collect();
    let prim = match &eqn.prim {
        Prim::Custom(c) => {
            let (primal, _) = batch_body(b, &c.primal, &flags, &[true]);
            let rule = match &c.rule {
                Rule::Jvp(r) => {
                    let mut f2 = flags.clone();
                    f2.extend(&flags);
                    Rule::Jvp(batch_body(b, r, &f2, &[true, true]).0)
                }
                Rule::Vjp { fwd, bwd } => {
                    let (fwd, out_flags) = batch_body(b, fwd, &flags, &[true]);
                    let mut bf: Vec<bool> = out_flags[1..].to_vec();
                    bf.push(true);
                    let (bwd, _) = batch_body(b, bwd, &bf, &[]);
                    Rule::Vjp { fwd, bwd }
                }
            };
            Prim::Custom(Rc::new(Custom {
                id: fresh_id(),
                name: c.name.clone(),
                primal,
                rule,
            }))
        }
        Prim::CustomLin(c) => {
            let n = c.n_in;
            let mut bf: Vec<bool> = flags[n..flags.len() - 1].to_vec();
            bf.push(true);
            let (bwd, _) = batch_body(b, &c.bwd, &bf, &[]);
            let fwd_map = c
                .fwd_map
                .as_ref()
                .map(|f| batch_body(b, f, &flags, &[true]).0)
                .map_err(Clone::clone);
            Prim::CustomLin(Rc::new(CustomLin {
                id: fresh_id(),
                name: c.name.clone(),
                n_in: n,
                bwd,
                fwd_map,
                span: c.span,
            }))
        }
        other => other.clone(),
    };
    b.eqns.push(Eqn {
        prim,
        nb: eqn.nb + 1,
        ..eqn.clone()
    });
    bt.vars.insert(eqn.out);
}
