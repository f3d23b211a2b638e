//! The verifier: run after every pass in tests.

use std::collections::HashSet;

use super::{Eqn, Func, Var, print};

/// Checks that every var is defined once before use, arities match, every
/// output exists and the output tree covers the outputs exactly once.
pub fn func(f: &Func) -> Result<(), String> {
    let defined: HashSet<Var> = f.params.iter().filter_map(|p| p.var()).collect();
    body(&f.eqns, &f.outs, defined, f.next_var)?;
    let mut leaves = f.tree.leaves();
    leaves.sort_unstable();
    if leaves != (0..f.outs.len()).collect::<Vec<_>>() {
        return Err(format!(
            "output tree {:?} does not cover {} outputs",
            f.tree,
            f.outs.len()
        ));
    }
    Ok(())
}

/// Checks equations and outputs given the vars defined on entry.
pub fn body(
    eqns: &[Eqn],
    outs: &[Var],
    mut defined: HashSet<Var>,
    next_var: u32,
) -> Result<(), String> {
    for e in eqns {
        if e.ins.len() != e.prim.arity() {
            return Err(format!(
                "arity: {} expects {} inputs",
                print::eqn(e),
                e.prim.arity()
            ));
        }
        nested(e)?;
        if let Some(v) = e.ins.iter().find(|v| !defined.contains(v)) {
            return Err(format!("{v} used before definition in {}", print::eqn(e)));
        }
        if e.out.0 >= next_var {
            return Err(format!("{} is not below next_var {next_var}", e.out));
        }
        if !defined.insert(e.out) {
            return Err(format!("{} defined twice ({})", e.out, print::eqn(e)));
        }
    }
    match outs.iter().find(|v| !defined.contains(v)) {
        Some(v) => Err(format!("output {v} is not defined")),
        None => Ok(()),
    }
}

/// Higher-order primitives: their bodies verify, and agree with the
/// equation's inputs.
fn nested(e: &Eqn) -> Result<(), String> {
    use crate::prims::Prim;
    use crate::prims::custom::Rule;
    let inner =
        |f: &Func, what: &str| func(f).map_err(|err| format!("{what} of {}: {err}", print::eqn(e)));
    match &e.prim {
        Prim::Scan(s) => {
            inner(&s.body, "body")?;
            if s.body_params().len() != s.arity() || s.body.outs.len() < s.n_carry {
                return Err(format!(
                    "scan body does not match its carries and inputs in {}",
                    print::eqn(e)
                ));
            }
        }
        Prim::Custom(c) => {
            inner(&c.primal, "primal")?;
            match &c.rule {
                Rule::Jvp(r) => inner(r, "jvp rule")?,
                Rule::Vjp { fwd, bwd } => {
                    inner(fwd, "forward rule")?;
                    inner(bwd, "backward rule")?;
                }
            }
        }
        Prim::CustomLin(c) => {
            inner(&c.bwd, "backward rule")?;
            if let Ok(f) = &c.fwd_map {
                inner(f, "derived forward rule")?;
            }
        }
        _ => {}
    }
    Ok(())
}
