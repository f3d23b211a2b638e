//! `has_aux`: a function returning `(output, aux)` is transformed as the
//! function returning `output` alone; the aux vars (computed by the primal
//! equations, which every transform keeps under their own names) are then
//! appended to the transformed function's outputs, undifferentiated.

use crate::ir::{Func, Tree, Var};

/// The aux part of a function's outputs: its vars and their arrangement
/// (leaves index `vars`).
#[derive(Clone, Debug)]
pub struct Aux {
    pub vars: Vec<Var>,
    pub tree: Tree,
}

/// Renumbers the leaves of `t` (indices into `outs`) 0, 1, .. in order,
/// collecting their vars.
fn renumber(t: &Tree, outs: &[Var]) -> (Vec<Var>, Tree) {
    let mut vars = Vec::new();
    let tree = t.map_leaves(&mut |i| {
        vars.push(outs[i]);
        Tree::Leaf(vars.len() - 1)
    });
    (vars, tree)
}

/// Splits `f`, which must return a 2-tuple `(output, aux)`, into the
/// function returning `output` and the aux; `None` for any other return.
pub fn split(f: &Func) -> Option<(Func, Aux)> {
    let Tree::Tuple(parts) = &f.tree else {
        return None;
    };
    let [out, aux] = parts.as_slice() else {
        return None;
    };
    let (outs, tree) = renumber(out, &f.outs);
    let (vars, aux_tree) = renumber(aux, &f.outs);
    let main = Func {
        outs,
        tree,
        ..f.clone()
    };
    Some((
        main,
        Aux {
            vars,
            tree: aux_tree,
        },
    ))
}

/// Appends `aux` to `g`'s outputs; `arrange(g's tree, aux tree)` gives the
/// new output tree (the aux tree's leaves already point past `g`'s outputs).
pub fn attach(mut g: Func, aux: &Aux, arrange: impl FnOnce(Tree, Tree) -> Tree) -> Func {
    let n = g.outs.len();
    g.outs.extend(aux.vars.iter().copied());
    let aux_tree = aux.tree.map_leaves(&mut |i| Tree::Leaf(i + n));
    let tree = std::mem::replace(&mut g.tree, Tree::Tuple(Vec::new()));
    g.tree = arrange(tree, aux_tree);
    g
}

/// `(result, aux)`: the arrangement of grad, jacrev, jacfwd, hessian and jacobian.
pub fn pair(g: Tree, aux: Tree) -> Tree {
    Tree::Tuple(vec![g, aux])
}

/// Appends `aux` as a last element of `g`'s tuple: jvp's `(out, tangent_out, aux)`.
pub fn append(g: Tree, aux: Tree) -> Tree {
    match g {
        Tree::Tuple(mut ts) => {
            ts.push(aux);
            Tree::Tuple(ts)
        }
        leaf => Tree::Tuple(vec![leaf, aux]),
    }
}

/// value_and_grad's `((value, aux), grad)` from `(value, grad)`.
pub fn with_value(g: Tree, aux: Tree) -> Tree {
    match g {
        Tree::Tuple(mut ts) if ts.len() == 2 => {
            let value = std::mem::replace(&mut ts[0], Tree::Tuple(Vec::new()));
            ts[0] = Tree::Tuple(vec![value, aux]);
            Tree::Tuple(ts)
        }
        other => Tree::Tuple(vec![other, aux]),
    }
}
