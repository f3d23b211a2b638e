//! Sums and means over the whole per-example part or one dim, and their
//! transposes (broadcasts back to a reference shape).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Binary, Cts, Jvp, Layout, Prim, Transpose};
use crate::ir::{Scalar, Var};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Mean,
    /// The max along one dim (torch.amax; the derivative is shared equally
    /// among ties); no transpose.
    Max,
    /// The max along one dim with non-finite values replaced by 0, carrying
    /// no derivative: the stabilising shift of softmax and logsumexp.
    MaxShift,
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
            (ReduceOp::Max, _) => "amax",
            (ReduceOp::MaxShift, _) => "max_shift",
        }
    }

    pub fn name(&self) -> String {
        match &self.dim {
            None => self.base().to_string(),
            Some(d) => format!("{}[dim={}]", self.base(), d.text()),
        }
    }

    /// Linear in input 0 (sums and means).
    pub fn jvp(&self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let t = tans[0]?;
        match self.op {
            ReduceOp::Sum | ReduceOp::Mean => {}
            ReduceOp::MaxShift => return None,
            ReduceOp::Max => return self.max_jvp(cx, t),
        }
        let mut ins = cx.eqn.ins.clone();
        ins[0] = t;
        Some(cx.emit(Prim::Reduce(self.clone()), &ins))
    }

    /// `sum_dim(t * w, d)` with `w` the indicator of the maxima divided by
    /// their count along `d`.
    fn max_jvp(&self, cx: &mut Jvp, t: Var) -> Option<Var> {
        let (x, y) = (cx.eqn.ins[0], cx.eqn.out);
        let dim = self.dim.clone()?;
        let yu = cx.emit(Prim::Layout(Layout::Unsqueeze(dim.clone())), &[y]);
        let hit = cx.emit(Prim::Binary(Binary::Ge), &[x, yu]);
        let sum = Reduce {
            op: ReduceOp::Sum,
            dim: Some(dim.clone()),
            transposed: false,
        };
        let count = cx.emit(Prim::Reduce(sum.clone()), &[hit]);
        let cu = cx.emit(Prim::Layout(Layout::Unsqueeze(dim)), &[count]);
        let w = cx.emit(Prim::Binary(Binary::Div), &[hit, cu]);
        let tw = cx.scale(t, w);
        // `t * w` has the input's shape, not the output's.
        cx.shaped_like(tw, x);
        Some(cx.emit(Prim::Reduce(sum), &[tw]))
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        if matches!(self.op, ReduceOp::Max | ReduceOp::MaxShift) {
            return Err(format!("`{}` is not linear", self.name()));
        }
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
        if let ReduceOp::Max | ReduceOp::MaxShift = self.op {
            let d = self.dim.as_ref().map_or(quote!(0), Scalar::dim_tokens);
            return quote!(#rt::ops::#f(#x, #d, #nb));
        }
        if self.transposed {
            let like = &args[1];
            quote!(#rt::ops::#f(#x, #dim, #like, #nb))
        } else {
            quote!(#rt::ops::#f(#x, #dim, #nb))
        }
    }
}
