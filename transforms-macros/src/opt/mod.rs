//! Optimisation passes over equation lists: dead code and common
//! subexpressions. (Fusion of elementwise chains happens at emission, see
//! `codegen::fuse`.)

use std::collections::{HashMap, HashSet};

use crate::ir::{Eqn, Var, print};

/// Removes equations whose outputs are never used.
pub fn dce(eqns: &mut Vec<Eqn>, outs: &[Var]) {
    let mut live: HashSet<Var> = outs.iter().copied().collect();
    let mut keep = vec![false; eqns.len()];
    for (i, e) in eqns.iter().enumerate().rev() {
        if live.contains(&e.out) {
            keep[i] = true;
            live.extend(e.ins.iter().copied());
        }
    }
    let mut k = keep.into_iter();
    eqns.retain(|_| k.next().unwrap_or(false));
}

/// Merges equations that compute the same primitive on the same inputs.
/// Returns the renaming applied (for outputs held outside the list).
pub fn cse(eqns: &mut Vec<Eqn>) -> HashMap<Var, Var> {
    let mut seen: HashMap<String, Var> = HashMap::new();
    let mut rename: HashMap<Var, Var> = HashMap::new();
    let mut kept = Vec::with_capacity(eqns.len());
    for e in eqns.drain(..) {
        let e = e.renamed(&rename);
        let key = format!("{}{{{}}}({:?})", e.prim.name(), e.nb, e.ins);
        match seen.get(&key) {
            Some(&v) => {
                rename.insert(e.out, v);
            }
            None => {
                seen.insert(key, e.out);
                kept.push(e);
            }
        }
    }
    *eqns = kept;
    rename
}

/// CSE then DCE; renames `outs` in place.
pub fn optimize(eqns: &mut Vec<Eqn>, outs: &mut [Var]) {
    let rename = cse(eqns);
    for o in outs.iter_mut() {
        *o = *rename.get(o).unwrap_or(o);
    }
    dce(eqns, outs);
    let _ = print::eqn;
}
