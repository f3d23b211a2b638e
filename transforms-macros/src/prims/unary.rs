//! Elementwise functions of one tensor (and of a tensor and a scalar).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Binary, Cts, Jvp, Prim, Transpose};
use crate::ir::{Scalar, Var, scalar::ScalarOp};

/// Elementwise functions of one tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    Neg,
    Exp,
    Ln,
    Sin,
    Cos,
    Tanh,
    Sqrt,
    Sigmoid,
    Relu,
    Square,
    Recip,
    /// 1 where x > 0, else 0 (the derivative of relu).
    Heaviside,
    Abs,
    Exp2,
    Log1p,
    /// -1, 0 or 1 by the sign of x (the derivative of abs, torch's choice at 0).
    Sign,
    /// 1 where x != 0, else 0 (the mask of a `where_` condition).
    NonZero,
}

impl Unary {
    pub const ALL: [Unary; 17] = [
        Unary::Neg,
        Unary::Exp,
        Unary::Ln,
        Unary::Sin,
        Unary::Cos,
        Unary::Tanh,
        Unary::Sqrt,
        Unary::Sigmoid,
        Unary::Relu,
        Unary::Square,
        Unary::Recip,
        Unary::Heaviside,
        Unary::Abs,
        Unary::Exp2,
        Unary::Log1p,
        Unary::Sign,
        Unary::NonZero,
    ];

    /// Helpers the compiler emits in derivatives, not part of the body vocabulary.
    pub fn is_internal(self) -> bool {
        matches!(self, Unary::Heaviside | Unary::Sign | Unary::NonZero)
    }

    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Ln => "ln",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tanh => "tanh",
            Unary::Sqrt => "sqrt",
            Unary::Sigmoid => "sigmoid",
            Unary::Relu => "relu",
            Unary::Square => "square",
            Unary::Recip => "recip",
            Unary::Heaviside => "heaviside",
            Unary::Abs => "abs",
            Unary::Exp2 => "exp2",
            Unary::Log1p => "log1p",
            Unary::Sign => "sign",
            Unary::NonZero => "nonzero",
        }
    }

    /// The JVP: `t * f'(x)` with `f'` written in primitives (x = input, y = output).
    pub fn jvp(self, cx: &mut Jvp, t: Option<Var>) -> Option<Var> {
        let t = t?;
        let (x, y) = (cx.eqn.ins[0], cx.eqn.out);
        let u = |cx: &mut Jvp, op: Unary, v: Var| cx.emit(Prim::Unary(op), &[v]);
        let s = |cx: &mut Jvp, op: WithScalar, v: Var| cx.emit(Prim::WithScalar(op), &[v]);
        let factor = match self {
            Unary::Neg => return Some(u(cx, Unary::Neg, t)),
            Unary::Heaviside | Unary::Sign | Unary::NonZero => return None,
            Unary::Abs => u(cx, Unary::Sign, x),
            Unary::Exp2 => s(
                cx,
                WithScalar::MulScalar(Scalar::float(std::f64::consts::LN_2)),
                y,
            ),
            Unary::Log1p => {
                let x1 = s(cx, WithScalar::AddScalar(Scalar::float(1.0)), x);
                return Some(cx.emit(Prim::Binary(Binary::Div), &[t, x1]));
            }
            Unary::Exp => y,
            Unary::Ln => return Some(cx.emit(Prim::Binary(Binary::Div), &[t, x])),
            Unary::Sin => u(cx, Unary::Cos, x),
            Unary::Cos => {
                let sin = u(cx, Unary::Sin, x);
                u(cx, Unary::Neg, sin)
            }
            Unary::Tanh => {
                // 1 - y^2
                let y2 = u(cx, Unary::Square, y);
                let n = u(cx, Unary::Neg, y2);
                s(cx, WithScalar::AddScalar(Scalar::float(1.0)), n)
            }
            Unary::Sqrt => {
                // 0.5 * t / y
                let half = s(cx, WithScalar::MulScalar(Scalar::float(0.5)), t);
                return Some(cx.emit(Prim::Binary(Binary::Div), &[half, y]));
            }
            Unary::Sigmoid => {
                // y * (1 - y)
                let n = u(cx, Unary::Neg, y);
                let one_minus = s(cx, WithScalar::AddScalar(Scalar::float(1.0)), n);
                cx.emit(Prim::Binary(Binary::Mul), &[y, one_minus])
            }
            Unary::Relu => u(cx, Unary::Heaviside, x),
            Unary::Square => s(cx, WithScalar::MulScalar(Scalar::float(2.0)), x),
            Unary::Recip => {
                // -y^2
                let y2 = u(cx, Unary::Square, y);
                u(cx, Unary::Neg, y2)
            }
        };
        Some(cx.scale(t, factor))
    }

    pub fn transpose(self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        match self {
            Unary::Neg => Ok(vec![Some(cx.emit(Prim::Unary(Unary::Neg), &[ct]))]),
            Unary::Exp
            | Unary::Ln
            | Unary::Sin
            | Unary::Cos
            | Unary::Tanh
            | Unary::Sqrt
            | Unary::Sigmoid
            | Unary::Relu
            | Unary::Square
            | Unary::Recip
            | Unary::Heaviside
            | Unary::Abs
            | Unary::Exp2
            | Unary::Log1p
            | Unary::Sign
            | Unary::NonZero => Err(format!("`{}` is not linear", self.name())),
        }
    }

    pub fn call(self, rt: &TokenStream, args: &[TokenStream]) -> TokenStream {
        let f = format_ident!("{}", self.name());
        let x = &args[0];
        quote!(#rt::ops::#f(#x))
    }

    /// The per-element expression, for fused kernels.
    pub fn elem(self, rt: &TokenStream, x: &TokenStream) -> TokenStream {
        let f = format_ident!("{}", self.name());
        quote!(#rt::elem::#f(#x))
    }
}

/// Elementwise functions of a tensor and a scalar.
#[derive(Clone, Debug)]
pub enum WithScalar {
    /// x + s
    AddScalar(Scalar),
    /// x * s
    MulScalar(Scalar),
    /// x ^ c
    Powf(Scalar),
    /// 1 where x > s, else 0 (and `<`, `>=`, `<=`); no derivative.
    Gt(Scalar),
    Lt(Scalar),
    Ge(Scalar),
    Le(Scalar),
    /// min(max(x, lo), hi)
    Clamp(Scalar, Scalar),
    /// 1 where lo <= x <= hi, else 0 (the derivative of clamp, torch's
    /// convention at the bounds); no derivative.
    InRange(Scalar, Scalar),
}

impl WithScalar {
    pub fn parts(&self) -> (&'static str, Vec<&Scalar>) {
        match self {
            WithScalar::AddScalar(s) => ("add_scalar", vec![s]),
            WithScalar::MulScalar(s) => ("mul_scalar", vec![s]),
            WithScalar::Powf(s) => ("powf", vec![s]),
            WithScalar::Gt(s) => ("gt_scalar", vec![s]),
            WithScalar::Lt(s) => ("lt_scalar", vec![s]),
            WithScalar::Ge(s) => ("ge_scalar", vec![s]),
            WithScalar::Le(s) => ("le_scalar", vec![s]),
            WithScalar::Clamp(lo, hi) => ("clamp", vec![lo, hi]),
            WithScalar::InRange(lo, hi) => ("in_range", vec![lo, hi]),
        }
    }

    pub fn name(&self) -> String {
        let (n, s) = self.parts();
        let s: Vec<String> = s.iter().map(|s| s.text()).collect();
        format!("{n}[{}]", s.join(", "))
    }

    pub fn jvp(&self, cx: &mut Jvp, t: Option<Var>) -> Option<Var> {
        let t = t?;
        match self {
            WithScalar::AddScalar(_) => Some(t),
            WithScalar::MulScalar(s) => {
                Some(cx.emit(Prim::WithScalar(WithScalar::MulScalar(s.clone())), &[t]))
            }
            WithScalar::Powf(c) => {
                // c * x^(c - 1)
                let x = cx.eqn.ins[0];
                let cm1 = c.clone().bin(ScalarOp::Sub, Scalar::float(1.0));
                let p = cx.emit(Prim::WithScalar(WithScalar::Powf(cm1)), &[x]);
                let d = cx.emit(Prim::WithScalar(WithScalar::MulScalar(c.clone())), &[p]);
                Some(cx.scale(t, d))
            }
            WithScalar::Clamp(lo, hi) => {
                let x = cx.eqn.ins[0];
                let inside = WithScalar::InRange(lo.clone(), hi.clone());
                let d = cx.emit(Prim::WithScalar(inside), &[x]);
                Some(cx.scale(t, d))
            }
            WithScalar::Gt(_)
            | WithScalar::Lt(_)
            | WithScalar::Ge(_)
            | WithScalar::Le(_)
            | WithScalar::InRange(..) => None,
        }
    }

    pub fn transpose(&self, cx: &mut Transpose, ct: Var) -> Result<Cts, String> {
        match self {
            WithScalar::MulScalar(s) => Ok(vec![Some(
                cx.emit(Prim::WithScalar(WithScalar::MulScalar(s.clone())), &[ct]),
            )]),
            WithScalar::AddScalar(_)
            | WithScalar::Powf(_)
            | WithScalar::Gt(_)
            | WithScalar::Lt(_)
            | WithScalar::Ge(_)
            | WithScalar::Le(_)
            | WithScalar::Clamp(..)
            | WithScalar::InRange(..) => Err(format!("`{}` is not linear", self.name())),
        }
    }

    pub fn call(&self, rt: &TokenStream, args: &[TokenStream]) -> TokenStream {
        let (n, s) = self.parts();
        let f = format_ident!("{n}");
        let (x, s) = (&args[0], s.iter().map(|s| s.tokens()));
        quote!(#rt::ops::#f(#x, #(#s),*))
    }

    pub fn elem(&self, rt: &TokenStream, x: &TokenStream) -> TokenStream {
        let (n, s) = self.parts();
        let f = format_ident!("{n}");
        let s = s.iter().map(|s| s.tokens());
        quote!(#rt::elem::#f(#x, #(#s),*))
    }
}
