//! Shape changes: with static parameters ([`Layout`]) and with the target
//! shape taken from a reference tensor ([`Relayout`]). All are linear in
//! their first input; the reference input only gives a shape.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Cts, Jvp, Prim, Transpose};
use crate::ir::{Scalar, Var};

/// Linear shape changes of one tensor with static parameters.
#[derive(Clone, Debug)]
pub enum Layout {
    Reshape(Vec<Scalar>),
    Transpose(Scalar, Scalar),
    /// torch's `.t()`: transpose of a 2-D tensor, identity below 2-D.
    T,
    Unsqueeze(Scalar),
    Squeeze(Scalar),
    Movedim(Scalar, Scalar),
    /// torch.narrow(dim, start, len).
    Narrow(Scalar, Scalar, Scalar),
    /// torch.index_select(dim, indices) with literal indices.
    IndexSelect(Scalar, Vec<Scalar>),
}

fn texts(s: &[Scalar]) -> String {
    let t: Vec<String> = s.iter().map(Scalar::text).collect();
    t.join(", ")
}

/// Index tokens as `usize` (literals stay unsuffixed).
fn index_tokens(idx: &[Scalar]) -> Vec<TokenStream> {
    idx.iter()
        .map(|i| match i {
            Scalar::Int(_) => i.tokens(),
            other => {
                let t = other.tokens();
                quote!(((#t) as usize))
            }
        })
        .collect()
}

impl Layout {
    pub fn name(&self) -> String {
        match self {
            Layout::Reshape(s) => {
                let dims: Vec<String> = s.iter().map(Scalar::text).collect();
                format!("reshape[{}]", dims.join(", "))
            }
            Layout::Transpose(a, b) => format!("transpose[{}, {}]", a.text(), b.text()),
            Layout::T => "t".to_string(),
            Layout::Unsqueeze(d) => format!("unsqueeze[{}]", d.text()),
            Layout::Squeeze(d) => format!("squeeze[{}]", d.text()),
            Layout::Movedim(s, d) => format!("movedim[{}, {}]", s.text(), d.text()),
            Layout::Narrow(d, s, l) => format!("narrow[{}, {}, {}]", d.text(), s.text(), l.text()),
            Layout::IndexSelect(d, i) => format!("index_select[{}; {}]", d.text(), texts(i)),
        }
    }

    pub fn jvp(&self, cx: &mut Jvp, t: Option<Var>) -> Option<Var> {
        Some(cx.emit(Prim::Layout(self.clone()), &[t?]))
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Var {
        let back = match self {
            Layout::Reshape(_) => {
                let w = cx.wit(0);
                return cx.emit(Prim::Relayout(Relayout::ReshapeLike), &[ct, w]);
            }
            Layout::Narrow(d, s, l) => {
                let w = cx.wit(0);
                let pad = Relayout::PadLike(d.clone(), s.clone(), l.clone());
                return cx.emit(Prim::Relayout(pad), &[ct, w]);
            }
            Layout::IndexSelect(d, i) => {
                let w = cx.wit(0);
                let add = Relayout::IndexAddLike(d.clone(), i.clone());
                return cx.emit(Prim::Relayout(add), &[ct, w]);
            }
            Layout::Transpose(a, b) => Layout::Transpose(a.clone(), b.clone()),
            Layout::T => Layout::T,
            Layout::Unsqueeze(d) => Layout::Squeeze(d.clone()),
            Layout::Squeeze(d) => Layout::Unsqueeze(d.clone()),
            Layout::Movedim(s, d) => Layout::Movedim(d.clone(), s.clone()),
        };
        cx.emit(Prim::Layout(back), &[ct])
    }

    pub fn call(&self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        let x = &args[0];
        match self {
            Layout::Reshape(s) => {
                let dims = s.iter().map(Scalar::dim_tokens);
                quote!(#rt::ops::reshape(#x, &[#(#dims),*], #nb))
            }
            Layout::Transpose(a, b) => {
                let (a, b) = (a.dim_tokens(), b.dim_tokens());
                quote!(#rt::ops::transpose(#x, #a, #b, #nb))
            }
            Layout::T => quote!(#rt::ops::t(#x, #nb)),
            Layout::Unsqueeze(d) | Layout::Squeeze(d) => {
                let f = format_ident!(
                    "{}",
                    if matches!(self, Layout::Squeeze(_)) {
                        "squeeze"
                    } else {
                        "unsqueeze"
                    }
                );
                let d = d.dim_tokens();
                quote!(#rt::ops::#f(#x, #d, #nb))
            }
            Layout::Movedim(s, d) => {
                let (s, d) = (s.dim_tokens(), d.dim_tokens());
                quote!(#rt::ops::movedim(#x, #s, #d, #nb))
            }
            Layout::Narrow(d, s, l) => {
                let (d, s) = (d.dim_tokens(), s.dim_tokens());
                let l = index_tokens(std::slice::from_ref(l));
                quote!(#rt::ops::narrow(#x, #d, #s, #(#l)*, #nb))
            }
            Layout::IndexSelect(d, i) => {
                let (d, i) = (d.dim_tokens(), index_tokens(i));
                quote!(#rt::ops::index_select(#x, #d, &[#(#i),*], #nb))
            }
        }
    }
}

/// Shape changes of `x` (input 0) whose target comes from `like` (input 1).
#[derive(Clone, Debug)]
pub enum Relayout {
    /// Reshape x's per-example part to like's.
    ReshapeLike,
    /// Replace per-example dim d of x by like's per-example shape.
    UnflattenLike(Scalar),
    /// The inverse of `UnflattenLike(d)`.
    FlattenLike(Scalar),
    /// Broadcast x to like's per-example shape.
    BroadcastLike,
    /// Sum x down to like's shape (the adjoint of broadcasting). Batch dims
    /// where like has size 1 are summed too, except those in the keep mask
    /// (set by batching when like is not batched at that level).
    SumToLike(u32),
    /// Broadcast x's per-example dim 0 (size 1) to like's per-example dim 0.
    ExpandDim0Like,
    /// Identity on x, checking that x and like agree in per-example dim 0
    /// (the vmap batch-size check).
    AssertBatch,
    /// Zeros of like's per-example shape with x at `start..` along `dim`
    /// (the adjoint of `Narrow(dim, start, len)`).
    PadLike(Scalar, Scalar, Scalar),
    /// Zeros of like's per-example shape into which slice k of x along `dim`
    /// is added at index k (the adjoint of `IndexSelect`).
    IndexAddLike(Scalar, Vec<Scalar>),
}

impl Relayout {
    pub fn name(&self) -> String {
        match self {
            Relayout::ReshapeLike => "reshape_like".into(),
            Relayout::UnflattenLike(d) => format!("unflatten_like[{}]", d.text()),
            Relayout::FlattenLike(d) => format!("flatten_like[{}]", d.text()),
            Relayout::BroadcastLike => "broadcast_like".into(),
            Relayout::SumToLike(0) => "sum_to_like".into(),
            Relayout::SumToLike(k) => format!("sum_to_like[keep={k:#b}]"),
            Relayout::ExpandDim0Like => "expand_dim0_like".into(),
            Relayout::AssertBatch => "assert_batch".into(),
            Relayout::PadLike(d, s, l) => {
                format!("pad_like[{}, {}, {}]", d.text(), s.text(), l.text())
            }
            Relayout::IndexAddLike(d, i) => format!("index_add_like[{}; {}]", d.text(), texts(i)),
        }
    }

    /// The batching rule: `SumToLike` keeps the new leading batch dim when
    /// `like` is not batched; the others need nothing beyond the raised `nb`.
    pub fn batch(&self, unbatched: &[bool]) -> Relayout {
        match self {
            Relayout::SumToLike(k) => Relayout::SumToLike((k << 1) | u32::from(unbatched[1])),
            other => other.clone(),
        }
    }

    pub fn jvp(&self, cx: &mut Jvp, tans: &[Option<Var>]) -> Option<Var> {
        let t = tans[0]?;
        if let Relayout::AssertBatch = self {
            return Some(t);
        }
        let like = cx.eqn.ins[1];
        Some(cx.emit(Prim::Relayout(self.clone()), &[t, like]))
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        cx.only_linear(0)?;
        let like = cx.eqn.ins[1];
        let g = match self {
            Relayout::AssertBatch => ct,
            Relayout::UnflattenLike(d) => cx.emit(
                Prim::Relayout(Relayout::FlattenLike(d.clone())),
                &[ct, like],
            ),
            Relayout::FlattenLike(d) => cx.emit(
                Prim::Relayout(Relayout::UnflattenLike(d.clone())),
                &[ct, like],
            ),
            Relayout::ReshapeLike => {
                let w = cx.wit(0);
                cx.emit(Prim::Relayout(Relayout::ReshapeLike), &[ct, w])
            }
            Relayout::BroadcastLike | Relayout::ExpandDim0Like => cx.unbroadcast(ct, 0),
            Relayout::SumToLike(_) => {
                let w = cx.wit(0);
                cx.emit(Prim::Relayout(Relayout::BroadcastLike), &[ct, w])
            }
            Relayout::PadLike(d, s, l) => {
                let narrow = Layout::Narrow(d.clone(), s.clone(), l.clone());
                cx.emit(Prim::Layout(narrow), &[ct])
            }
            Relayout::IndexAddLike(d, i) => {
                let select = Layout::IndexSelect(d.clone(), i.clone());
                cx.emit(Prim::Layout(select), &[ct])
            }
        };
        Ok(vec![Some(g), None])
    }

    pub fn call(&self, rt: &TokenStream, args: &[TokenStream], nb: Literal) -> TokenStream {
        let (x, like) = (&args[0], &args[1]);
        match self {
            Relayout::UnflattenLike(d) | Relayout::FlattenLike(d) => {
                let f = format_ident!(
                    "{}",
                    if matches!(self, Relayout::FlattenLike(_)) {
                        "flatten_like"
                    } else {
                        "unflatten_like"
                    }
                );
                let d = d.dim_tokens();
                quote!(#rt::ops::#f(#x, #d, #like, #nb))
            }
            Relayout::SumToLike(k) => quote!(#rt::ops::sum_to_like(#x, #like, #nb, #k)),
            Relayout::PadLike(d, s, _) => {
                let (d, s) = (d.dim_tokens(), s.dim_tokens());
                quote!(#rt::ops::pad_like(#x, #d, #s, #like, #nb))
            }
            Relayout::IndexAddLike(d, i) => {
                let (d, i) = (d.dim_tokens(), index_tokens(i));
                quote!(#rt::ops::index_add_like(#x, #d, &[#(#i),*], #like, #nb))
            }
            Relayout::ReshapeLike
            | Relayout::BroadcastLike
            | Relayout::ExpandDim0Like
            | Relayout::AssertBatch => {
                let f = format_ident!("{}", self.name());
                quote!(#rt::ops::#f(#x, #like, #nb))
            }
        }
    }
}
