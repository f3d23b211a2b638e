//! Fusion that keeps a Hessian's large temporaries short-lived (its peak
//! memory counts them all at once): an elementwise sum of large terms is
//! not folded into a later chain across a matrix product. Folding
//! `t = a + b` into `t + c` keeps `a` and `b` alive while `c`'s product
//! runs, where the separate sum, written over `a`'s buffer, leaves one
//! tensor (quad's Hessian: four n x n terms at its peak, now three).

use std::collections::{HashMap, HashSet};

use crate::ir::{Eqn, Var};
use crate::prims::Prim;

/// Whether `e` allocates a result that may be as large as a Jacobian.
pub(crate) fn large(e: &Eqn) -> bool {
    matches!(e.prim, Prim::Matmul(_) | Prim::Diag(_))
}

/// The elementwise producers of two or more tensors that must stay
/// separate from their single elementwise reader: a matrix product or
/// seed product runs between them in `order`.
pub fn pinned(order: &[&Eqn], uses: &HashMap<Var, usize>) -> HashSet<Var> {
    let at: HashMap<Var, usize> = order.iter().enumerate().map(|(i, e)| (e.out, i)).collect();
    let mut pinned = HashSet::new();
    for (j, e) in order.iter().enumerate() {
        if !e.prim.is_elementwise() {
            continue;
        }
        for v in &e.ins {
            let Some(&i) = at.get(v) else { continue };
            let p = order[i];
            let distinct: HashSet<&Var> = p.ins.iter().collect();
            let sum_of_terms = p.prim.is_elementwise() && distinct.len() >= 2;
            if sum_of_terms
                && uses.get(v) == Some(&1)
                && p.nb == e.nb
                && i < j
                && order[i + 1..j].iter().any(|x| large(x))
            {
                pinned.insert(*v);
            }
        }
    }
    pinned
}
