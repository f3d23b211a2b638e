//! The IR: a small flat A-normal form.
//!
//! A [`Func`] has parameters (tensors or scalars), a list of equations
//! `out = prim[params](ins; nb)` and a list of output vars arranged by an
//! output [`Tree`]. Every tensor operand is a [`Var`]; scalar operands
//! (literals, scalar parameters, arithmetic on them) live in the primitive's
//! parameters as [`Scalar`]s. Each equation carries `nb`, the number of leading
//! batch dims of its operands (added by `vmap`), and the user's [`Span`].

pub mod print;
pub mod scalar;
pub mod verify;

use proc_macro2::{Span, TokenStream};
use syn::Ident;

pub use scalar::Scalar;

use crate::prims::Prim;

/// A tensor-valued variable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Var(pub u32);

/// One equation `out = prim(ins)` over operands with `nb` leading batch dims.
#[derive(Clone, Debug)]
pub struct Eqn {
    pub prim: Prim,
    pub ins: Vec<Var>,
    pub out: Var,
    pub nb: u8,
    pub span: Span,
}

/// The kind of a function parameter.
#[derive(Clone, Debug)]
pub enum ParamKind {
    /// A `&Tensor` parameter, bound to a var.
    Tensor(Var),
    /// A plain scalar or integer parameter (a constant for every transform).
    Scalar,
}

/// A parameter of a [`Func`], with its name and type as the user wrote them.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Ident,
    pub ty: TokenStream,
    pub kind: ParamKind,
}

impl Param {
    pub fn var(&self) -> Option<Var> {
        match self.kind {
            ParamKind::Tensor(v) => Some(v),
            ParamKind::Scalar => None,
        }
    }
}

/// How the flat output list is arranged for the user: a tensor or a tuple.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    Leaf(usize),
    Tuple(Vec<Tree>),
}

impl Tree {
    /// The leaves in order.
    pub fn leaves(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<usize>) {
        match self {
            Tree::Leaf(i) => out.push(*i),
            Tree::Tuple(ts) => ts.iter().for_each(|t| t.collect(out)),
        }
    }

    /// Replaces every leaf by `f(leaf)`.
    pub fn map_leaves(&self, f: &mut impl FnMut(usize) -> Tree) -> Tree {
        match self {
            Tree::Leaf(i) => f(*i),
            Tree::Tuple(ts) => Tree::Tuple(ts.iter().map(|t| t.map_leaves(f)).collect()),
        }
    }
}

/// A function in the IR.
#[derive(Clone, Debug)]
pub struct Func {
    pub params: Vec<Param>,
    pub eqns: Vec<Eqn>,
    pub outs: Vec<Var>,
    pub tree: Tree,
    /// The next unused var number.
    pub next_var: u32,
}

impl Func {
    /// A placeholder (replaced before use).
    pub fn empty() -> Func {
        Func {
            params: Vec::new(),
            eqns: Vec::new(),
            outs: Vec::new(),
            tree: Tree::Tuple(Vec::new()),
            next_var: 0,
        }
    }
}

/// Appends equations with fresh vars.
pub struct Builder {
    pub next_var: u32,
    pub eqns: Vec<Eqn>,
    pub span: Span,
}

impl Builder {
    pub fn new(next_var: u32) -> Self {
        Builder {
            next_var,
            eqns: Vec::new(),
            span: Span::call_site(),
        }
    }

    pub fn fresh(&mut self) -> Var {
        let v = Var(self.next_var);
        self.next_var += 1;
        v
    }

    /// Emits `prim(ins)` with `nb` batch dims at the current span; returns the out var.
    pub fn emit(&mut self, prim: Prim, ins: &[Var], nb: u8) -> Var {
        let out = self.fresh();
        self.eqns.push(Eqn {
            prim,
            ins: ins.to_vec(),
            out,
            nb,
            span: self.span,
        });
        out
    }

    /// Runs `f` with the builder's equations diverted into a separate list,
    /// which is returned (the var counter is shared).
    pub fn scoped<R>(&mut self, f: impl FnOnce(&mut Builder) -> R) -> (R, Vec<Eqn>) {
        let saved = std::mem::take(&mut self.eqns);
        let r = f(self);
        let inner = std::mem::replace(&mut self.eqns, saved);
        (r, inner)
    }
}

impl Eqn {
    /// The equation with its inputs renamed by `map`.
    pub fn renamed(&self, map: &std::collections::HashMap<Var, Var>) -> Eqn {
        Eqn {
            ins: self.ins.iter().map(|v| *map.get(v).unwrap_or(v)).collect(),
            ..self.clone()
        }
    }
}
