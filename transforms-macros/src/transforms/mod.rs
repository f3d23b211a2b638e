//! The transforms: pure IR -> IR functions.

pub mod aux;
pub mod custom;
pub mod jac;
pub mod jvp;
pub mod scan;
pub mod transpose;
pub mod vmap;

use std::collections::HashSet;

use crate::ir::{Eqn, Var};
use crate::opt;

/// Equations with their outputs.
pub struct Body {
    pub eqns: Vec<Eqn>,
    pub outs: Vec<Var>,
}

impl Body {
    /// CSE and dead code elimination.
    pub fn optimize(&mut self) {
        opt::optimize(&mut self.eqns, &mut self.outs);
    }
}

/// What `bodies` read (or return) that they do not define and that is not
/// `bound`: the residuals a forward program must hand them, in first-use order.
pub fn free_vars(bodies: &[&Body], bound: &[Var]) -> Vec<Var> {
    let defined: HashSet<Var> = bodies
        .iter()
        .flat_map(|b| b.eqns.iter().map(|e| e.out))
        .chain(bound.iter().copied())
        .collect();
    let mut free = Vec::new();
    let read = bodies
        .iter()
        .flat_map(|b| b.eqns.iter().flat_map(|e| e.ins.iter()));
    let returned = bodies.iter().flat_map(|b| b.outs.iter());
    for v in read.chain(returned) {
        if !defined.contains(v) && !free.contains(v) {
            free.push(*v);
        }
    }
    free
}

/// The forward program of a split transform: `f`'s parameters, the primal
/// equations, and `f`'s outputs followed by the residuals that `bodies` read
/// (beyond `bound`). Returns it with the residuals.
pub fn forward_program(
    f: &crate::ir::Func,
    primal: Vec<crate::ir::Eqn>,
    bodies: &[&Body],
    bound: &[Var],
    next_var: u32,
) -> (crate::ir::Func, Vec<Var>) {
    let residuals = free_vars(bodies, bound);
    let mut outs = f.outs.clone();
    outs.extend(residuals.iter().copied());
    let forward = crate::ir::Func {
        params: f.params.clone(),
        eqns: primal,
        outs,
        tree: f.tree.clone(),
        next_var,
    };
    (forward, residuals)
}
