//! Sums and means over the whole per-example part or one dim, and their
//! transposes (broadcasts back to a reference shape).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Cts, Jvp, Prim, Transpose};
use crate::ir::{Scalar, Var};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Mean,
}

/// `op(x)` over `dim` (None: all per-example dims), or with `transposed`,
/// `op_t(ct, like)`: the adjoint, broadcasting `ct` back to `like`'s shape.
#[derive(Clone, Debug)]
pub struct Reduce {
    pub op: ReduceOp,
    pub dim: Option<Scalar>,
    pub transposed: bool,
}

impl Reduce {
    pub fn arity(&self) -> usize {
        if self.transposed { 2 } else { 1 }
    }

    fn base(&self) -> &'static str {
        match (self.op, self.transposed) {
            (ReduceOp::Sum, false) => "sum",
            (ReduceOp::Mean, false) => "mean",
            (ReduceOp::Sum, true) => "sum_t",
            (ReduceOp::Mean, true) => "mean_t",
        }
    }

    pub fn name(&self) -> String {
        match &self.dim {
            None => self.base().to_string(),
            Some(d) => format!("{}[dim={}]", self.base(), d.text()),
        }
    }

    /// Linear in input 0.
    pub fn jvp(&self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let t = tans[0]?;
        let mut ins = cx.eqn.ins.clone();
        ins[0] = t;
        Some(cx.emit(Prim::Reduce(self.clone()), &ins))
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        cx.only_linear(0)?;
        let flipped = Reduce {
            transposed: !self.transposed,
            ..self.clone()
        };
        let g = if self.transposed {
            cx.emit(Prim::Reduce(flipped), &[ct])
        } else {
            let w = cx.wit(0);
            cx.emit(Prim::Reduce(flipped), &[ct, w])
        };
        let mut cts = vec![Some(g)];
        cts.resize(self.arity(), None);
        Ok(cts)
    }

    pub fn call(&self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        let f = format_ident!("{}", self.base());
        let dim = match &self.dim {
            None => quote!(::core::option::Option::None),
            Some(d) => {
                let d = d.dim_tokens();
                quote!(::core::option::Option::Some(#d))
            }
        };
        let x = &args[0];
        if self.transposed {
            let like = &args[1];
            quote!(#rt::ops::#f(#x, #dim, #like, #nb))
        } else {
            quote!(#rt::ops::#f(#x, #dim, #nb))
        }
    }
}
