//! The primitives. Each family module defines, beside each primitive, its
//! JVP rule, its transpose rule (for the primitives that are linear in an
//! input) and the kernel it lowers to. Batching is uniform: every kernel takes
//! `nb` leading batch dims that broadcast left-aligned, so the batching rule of
//! every primitive is "raise `nb` by one" (see `transforms::vmap`).
//! Dispatch is an exhaustive `match` over [`Prim`] with no `_` arm: a new
//! primitive does not compile until it has all its rules. Batching is "raise
//! `nb` by one" plus, for the primitives whose result keeps or sums batch
//! dims by a shape input, a mask saying which batch dims to keep.

mod binary;
mod concat;
mod constant;
pub mod custom;
mod diag;
mod layout;
mod matmul;
mod reduce;
pub mod scan;
mod select;
mod unary;

pub use binary::Binary;
pub use concat::Concat;
pub use constant::Const;
pub use diag::Diag;
pub use layout::{Layout, Relayout};
pub use matmul::Matmul;
pub use reduce::{Reduce, ReduceOp};
pub use scan::Scan;
pub use select::elem as where_elem;
pub use unary::{Unary, WithScalar};

use std::rc::Rc;

use proc_macro2::TokenStream;

use crate::ir::{Builder, Eqn, Var};

/// A primitive operation with its static parameters.
#[derive(Clone, Debug)]
pub enum Prim {
    /// Elementwise functions of one tensor.
    Unary(Unary),
    /// Elementwise functions of one tensor and a scalar.
    WithScalar(WithScalar),
    /// Elementwise broadcasting functions of two tensors.
    Binary(Binary),
    /// torch.matmul and its two transposes.
    Matmul(Matmul),
    /// Sums and means, and their transposes.
    Reduce(Reduce),
    /// Reshapes, transposes and dim moves of one tensor (static parameters).
    Layout(Layout),
    /// Shape changes that take their target shape from a reference tensor.
    Relayout(Relayout),
    /// Tensors built from a reference tensor's shape alone.
    Const(Const),
    /// Structured Jacobian seeds and their products.
    Diag(Diag),
    /// A loop over a body (higher order: its rules are in `transforms::scan`).
    Scan(Rc<Scan>),
    /// Result `k` of a scan.
    Proj(usize),
    /// A function with a user-written derivative rule (higher order: its
    /// rules are in `transforms::custom`).
    Custom(Rc<custom::Custom>),
    /// The tangent map of a custom VJP: transposes to the user's rule.
    CustomLin(Rc<custom::CustomLin>),
    /// `where_(c, a, b)`: broadcasting select by a 0/1 condition.
    Where,
    /// Concatenation along a dim and its adjoint.
    Concat(Concat),
}

/// Context handed to a JVP rule.
pub struct Jvp<'a> {
    pub b: &'a mut Builder,
    pub eqn: &'a Eqn,
    /// Linear vars the rule made whose shape is not the output's, each with
    /// a primal var of its shape (its witness for transposition).
    pub shaped: Vec<(Var, Var)>,
}

impl Jvp<'_> {
    /// Records that the linear var `v` has the shape of the primal var `like`.
    pub fn shaped_like(&mut self, v: Var, like: Var) {
        self.shaped.push((v, like));
    }

    pub fn emit(&mut self, prim: Prim, ins: &[Var]) -> Var {
        self.b.emit(prim, ins, self.eqn.nb)
    }

    /// `t * factor` (broadcasting).
    pub fn scale(&mut self, t: Var, factor: Var) -> Var {
        self.emit(Prim::Binary(Binary::Mul), &[t, factor])
    }

    /// Sum of optional tangents (`None` is a symbolic zero).
    pub fn add(&mut self, a: Option<Var>, b: Option<Var>) -> Option<Var> {
        match (a, b) {
            (Some(a), Some(b)) => Some(self.emit(Prim::Binary(Binary::Add), &[a, b])),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

/// Context handed to a transpose rule: which inputs are linear, the witness
/// (a primal var of the same shape) of each linear var, and the builder.
pub struct Transpose<'a> {
    pub b: &'a mut Builder,
    pub eqn: &'a Eqn,
    pub linear: Vec<bool>,
    pub witness: &'a dyn Fn(Var) -> Var,
}

impl Transpose<'_> {
    pub fn emit(&mut self, prim: Prim, ins: &[Var]) -> Var {
        self.b.emit(prim, ins, self.eqn.nb)
    }

    /// The witness of input `i` (which must be linear).
    pub fn wit(&self, i: usize) -> Var {
        (self.witness)(self.eqn.ins[i])
    }

    /// `sum_to_like(x, witness of input i)`: undoes broadcasting of input i.
    pub fn unbroadcast(&mut self, x: Var, i: usize) -> Var {
        let w = self.wit(i);
        self.emit(Prim::Relayout(Relayout::SumToLike(0)), &[x, w])
    }

    pub fn only_linear(&self, i: usize) -> Result<(), String> {
        let others = self.linear.iter().enumerate().any(|(j, l)| *l && j != i);
        if others || !self.linear[i] {
            return Err(format!(
                "`{}` is not linear in this combination of inputs",
                self.eqn.prim.name()
            ));
        }
        Ok(())
    }
}

/// Cotangent contributions, one per input (`None`: not linear or zero).
pub type Cts = Vec<Option<Var>>;

impl Prim {
    /// The number of tensor inputs.
    pub fn arity(&self) -> usize {
        match self {
            Prim::Unary(_) | Prim::WithScalar(_) | Prim::Layout(_) => 1,
            Prim::Binary(_) | Prim::Relayout(_) => 2,
            Prim::Matmul(m) => m.arity(),
            Prim::Reduce(r) => r.arity(),
            Prim::Const(_) => 1,
            Prim::Diag(d) => d.arity(),
            Prim::Scan(s) => s.arity(),
            Prim::Proj(_) => 1,
            Prim::Custom(c) => c.arity(),
            Prim::CustomLin(c) => c.arity(),
            Prim::Where => 3,
            Prim::Concat(c) => c.arity(),
        }
    }

    /// The name with its parameters, as the printer shows it.
    pub fn name(&self) -> String {
        match self {
            Prim::Unary(p) => p.name().to_string(),
            Prim::WithScalar(p) => p.name(),
            Prim::Binary(p) => p.name().to_string(),
            Prim::Matmul(p) => p.label(),
            Prim::Reduce(p) => p.name(),
            Prim::Layout(p) => p.name(),
            Prim::Relayout(p) => p.name().to_string(),
            Prim::Const(p) => p.name().to_string(),
            Prim::Diag(p) => p.name(),
            Prim::Scan(s) => s.name(),
            Prim::Proj(k) => format!("proj{k}"),
            Prim::Custom(c) => c.name(),
            Prim::CustomLin(c) => c.name(),
            Prim::Where => "where".to_string(),
            Prim::Concat(p) => p.name(),
        }
    }

    /// Elementwise primitives (fusable into one pass).
    pub fn is_elementwise(&self) -> bool {
        match self {
            Prim::Unary(_) | Prim::WithScalar(_) | Prim::Binary(_) | Prim::Where => true,
            Prim::Concat(_)
            | Prim::Matmul(_)
            | Prim::Reduce(_)
            | Prim::Layout(_)
            | Prim::Relayout(_)
            | Prim::Const(_)
            | Prim::Diag(_)
            | Prim::Scan(_)
            | Prim::Proj(_)
            | Prim::Custom(_)
            | Prim::CustomLin(_) => false,
        }
    }

    /// The JVP rule: the output tangent from the input tangents.
    pub fn jvp(&self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        match self {
            Prim::Unary(p) => p.jvp(cx, tans[0]),
            Prim::WithScalar(p) => p.jvp(cx, tans[0]),
            Prim::Binary(p) => p.jvp(cx, tans),
            Prim::Matmul(p) => p.jvp(cx, tans),
            Prim::Reduce(p) => p.jvp(cx, tans),
            Prim::Layout(p) => p.jvp(cx, tans[0]),
            Prim::Relayout(p) => p.jvp(cx, tans),
            Prim::Const(_) => None,
            Prim::Diag(p) => p.jvp(cx, tans),
            // The JVP of a whole scan is `transforms::scan::jvp`, applied by
            // `jvp_eqns`; a result's tangent is the tangent scan's result.
            Prim::Scan(_) => None,
            Prim::Proj(k) => crate::transforms::scan::proj_jvp(cx, *k, tans[0]),
            // Applied by `jvp_eqns` (`transforms::custom::jvp`).
            Prim::Custom(_) | Prim::CustomLin(_) => None,
            Prim::Where => select::jvp(cx, tans),
            Prim::Concat(p) => p.jvp(cx, tans),
        }
    }

    /// The transpose rule for an equation that is linear in the inputs
    /// marked in `cx.linear`.
    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        match self {
            Prim::Unary(p) => p.transpose(cx, ct),
            Prim::WithScalar(p) => p.transpose(cx, ct),
            Prim::Binary(p) => p.transpose(cx, ct),
            Prim::Matmul(p) => p.transpose(cx, ct),
            Prim::Reduce(p) => p.transpose(cx, ct),
            Prim::Layout(p) => Ok(vec![Some(p.transpose(cx, ct))]),
            Prim::Relayout(p) => p.transpose(cx, ct),
            Prim::Const(p) => Err(format!("`{}` is not linear", p.name())),
            Prim::Diag(p) => p.transpose(cx, ct),
            // Transposed together by `transforms::scan::transpose`.
            Prim::Scan(_) | Prim::Proj(_) => {
                Err("transforms: internal error: scan transposed one result at a time".into())
            }
            Prim::Custom(c) => Err(format!("`{}` is not linear", c.name)),
            Prim::CustomLin(c) => crate::transforms::custom::transpose_lin(cx, c, ct),
            Prim::Where => select::transpose(cx, ct),
            Prim::Concat(p) => p.transpose(cx, ct),
        }
    }

    /// The kernel call: `rt` is the runtime's path, `args` the operands
    /// (already references), `nb` the batch dims.
    pub fn call(&self, rt: &TokenStream, args: &[TokenStream], nb: u8) -> TokenStream {
        let nb = proc_macro2::Literal::usize_unsuffixed(nb as usize);
        match self {
            Prim::Unary(p) => p.call(rt, args),
            Prim::WithScalar(p) => p.call(rt, args),
            Prim::Binary(p) => p.call(rt, args, nb),
            Prim::Matmul(p) => p.call(rt, args, nb),
            Prim::Reduce(p) => p.call(rt, args, nb),
            Prim::Layout(p) => p.call(rt, args, nb),
            Prim::Relayout(p) => p.call(rt, args, nb),
            Prim::Const(p) => p.call(rt, args, nb),
            Prim::Diag(p) => p.call(rt, args, nb, false),
            Prim::Scan(s) => s.call(rt, args),
            Prim::Proj(k) => {
                let (x, k) = (&args[0], syn::Index::from(*k));
                quote::quote!(&(#x).#k)
            }
            Prim::Custom(c) => c.call(args),
            Prim::CustomLin(c) => c.call(args),
            Prim::Where => select::call(rt, args, nb),
            Prim::Concat(p) => p.call(rt, args, nb),
        }
    }

    /// The input that a kernel can read as `t(w)` from `w` itself.
    pub fn transposable_input(&self) -> Option<usize> {
        match self {
            Prim::Matmul(Matmul::Mm) => Some(1),
            Prim::Diag(d) => d.matrix_input(),
            Prim::Unary(_)
            | Prim::WithScalar(_)
            | Prim::Binary(_)
            | Prim::Matmul(_)
            | Prim::Reduce(_)
            | Prim::Layout(_)
            | Prim::Relayout(_)
            | Prim::Const(_)
            | Prim::Scan(_)
            | Prim::Proj(_)
            | Prim::Custom(_)
            | Prim::CustomLin(_) => None,
            Prim::Where | Prim::Concat(_) => None,
        }
    }

    /// The kernel call with the input [`Prim::transposable_input`] given as
    /// `w` where the equation reads `t(w)`.
    pub fn call_transposed(&self, rt: &TokenStream, args: &[TokenStream], nb: u8) -> TokenStream {
        let nb_lit = proc_macro2::Literal::usize_unsuffixed(nb as usize);
        match self {
            Prim::Matmul(Matmul::Mm) => {
                let (a, w) = (&args[0], &args[1]);
                quote::quote!(#rt::ops::matmul_t(#a, #w, #nb_lit))
            }
            Prim::Diag(d) => d.call(rt, args, nb_lit, true),
            other => other.call(rt, args, nb),
        }
    }

    /// The batching rule: the primitive for one more leading batch dim, given
    /// which inputs are not batched (they get a leading dim of size 1).
    pub fn batch(&self, unbatched: &[bool]) -> Prim {
        match self {
            Prim::Matmul(m) => Prim::Matmul(m.batch(unbatched)),
            Prim::Relayout(r) => Prim::Relayout(r.batch(unbatched)),
            Prim::Diag(d) => Prim::Diag(d.batch(unbatched)),
            Prim::Unary(_)
            | Prim::WithScalar(_)
            | Prim::Binary(_)
            | Prim::Reduce(_)
            | Prim::Layout(_)
            | Prim::Const(_)
            | Prim::Scan(_)
            | Prim::Proj(_)
            | Prim::Custom(_)
            | Prim::CustomLin(_) => self.clone(),
            Prim::Where | Prim::Concat(_) => self.clone(),
        }
    }

    /// Whether the kernel returns a reference to its first operand.
    pub fn returns_ref(&self) -> bool {
        matches!(self, Prim::Relayout(Relayout::AssertBatch) | Prim::Proj(_))
    }
}
