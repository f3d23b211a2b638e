//! A printer with stable output, for tests and for reading transforms.

use std::fmt::Write;

use super::{Eqn, Func, ParamKind, Tree, Var};

impl std::fmt::Display for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// `%5 = add{nb=1}(%3, %4)`
pub fn eqn(e: &Eqn) -> String {
    let ins: Vec<String> = e.ins.iter().map(Var::to_string).collect();
    let nb = if e.nb > 0 {
        format!("{{nb={}}}", e.nb)
    } else {
        String::new()
    };
    format!("{} = {}{}({})", e.out, e.prim.name(), nb, ins.join(", "))
}

fn tree(t: &Tree, outs: &[Var]) -> String {
    match t {
        Tree::Leaf(i) => outs.get(*i).map_or_else(|| format!("?{i}"), Var::to_string),
        Tree::Tuple(ts) => {
            let parts: Vec<String> = ts.iter().map(|t| tree(t, outs)).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// The whole function, one equation a line.
pub fn func(f: &Func) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Tensor(v) => format!("{}: {v}", p.name),
            ParamKind::Scalar => format!("{}: scalar", p.name),
        })
        .collect();
    let mut s = format!("fn({}) {{\n", params.join(", "));
    for e in &f.eqns {
        let _ = writeln!(s, "  {}", eqn(e));
    }
    let _ = writeln!(s, "  return {}\n}}", tree(&f.tree, &f.outs));
    s
}
