//! Scalar operands: literals, scalar parameters and arithmetic on them.
//!
//! Scalars are constants for every transform; they are emitted as Rust
//! expressions whose type is inferred from the kernel they are passed to.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};

/// Binary arithmetic between scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ScalarOp {
    fn symbol(self) -> &'static str {
        match self {
            ScalarOp::Add => "+",
            ScalarOp::Sub => "-",
            ScalarOp::Mul => "*",
            ScalarOp::Div => "/",
        }
    }

    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ScalarOp::Add => a + b,
            ScalarOp::Sub => a - b,
            ScalarOp::Mul => a * b,
            ScalarOp::Div => a / b,
        }
    }
}

/// A scalar expression.
#[derive(Clone, Debug)]
pub enum Scalar {
    /// A float constant.
    Float(f64),
    /// An integer constant (dims, shapes).
    Int(i64),
    /// A Rust expression over scalar parameters, kept as the user wrote it.
    Expr {
        tokens: TokenStream,
        text: String,
    },
    Neg(Box<Scalar>),
    Bin(ScalarOp, Box<Scalar>, Box<Scalar>),
}

impl Scalar {
    pub fn float(v: f64) -> Scalar {
        Scalar::Float(v)
    }

    pub fn expr(tokens: TokenStream) -> Scalar {
        let text = tokens.to_string();
        Scalar::Expr { tokens, text }
    }

    pub fn neg(self) -> Scalar {
        match self {
            Scalar::Float(v) => Scalar::Float(-v),
            Scalar::Int(v) => Scalar::Int(-v),
            Scalar::Neg(inner) => *inner,
            s => Scalar::Neg(Box::new(s)),
        }
    }

    /// `self op other`, folding constants.
    pub fn bin(self, op: ScalarOp, other: Scalar) -> Scalar {
        match (&self, &other) {
            (Scalar::Float(a), Scalar::Float(b)) => Scalar::Float(op.apply(*a, *b)),
            (_, Scalar::Float(b)) if *b == 1.0 && matches!(op, ScalarOp::Mul | ScalarOp::Div) => {
                self
            }
            (Scalar::Float(a), _) if *a == 1.0 && op == ScalarOp::Mul => other,
            _ => Scalar::Bin(op, Box::new(self), Box::new(other)),
        }
    }

    pub fn recip(self) -> Scalar {
        Scalar::Float(1.0).bin(ScalarOp::Div, self)
    }

    /// Whether the value is known at compile time (no scalar parameter in it).
    pub fn is_constant(&self) -> bool {
        match self {
            Scalar::Float(_) | Scalar::Int(_) => true,
            Scalar::Expr { .. } => false,
            Scalar::Neg(s) => s.is_constant(),
            Scalar::Bin(_, a, b) => a.is_constant() && b.is_constant(),
        }
    }

    /// Stable text for printing and for common-subexpression keys.
    pub fn text(&self) -> String {
        match self {
            Scalar::Float(v) => format!("{v:?}"),
            Scalar::Int(v) => format!("{v}"),
            Scalar::Expr { text, .. } => format!("({text})"),
            Scalar::Neg(s) => format!("-{}", s.text()),
            Scalar::Bin(op, a, b) => format!("({} {} {})", a.text(), op.symbol(), b.text()),
        }
    }

    /// The expression as Rust tokens (type left to inference).
    pub fn tokens(&self) -> TokenStream {
        match self {
            Scalar::Float(v) => {
                let lit = syn::LitFloat::new(&format!("{v:?}"), Span::call_site());
                if *v < 0.0 {
                    let pos = syn::LitFloat::new(&format!("{:?}", -v), Span::call_site());
                    quote!((-#pos))
                } else {
                    lit.into_token_stream()
                }
            }
            Scalar::Int(v) => {
                let lit = proc_macro2::Literal::i64_unsuffixed(v.abs());
                if *v < 0 {
                    quote!((-#lit))
                } else {
                    lit.into_token_stream()
                }
            }
            Scalar::Expr { tokens, .. } => quote!((#tokens)),
            Scalar::Neg(s) => {
                let s = s.tokens();
                quote!((-#s))
            }
            Scalar::Bin(op, a, b) => {
                let (a, b) = (a.tokens(), b.tokens());
                match op {
                    ScalarOp::Add => quote!((#a + #b)),
                    ScalarOp::Sub => quote!((#a - #b)),
                    ScalarOp::Mul => quote!((#a * #b)),
                    ScalarOp::Div => quote!((#a / #b)),
                }
            }
        }
    }

    /// The expression converted to `isize` (for dims).
    pub fn dim_tokens(&self) -> TokenStream {
        match self {
            Scalar::Int(_) => self.tokens(),
            other => {
                let t = other.tokens();
                quote!(((#t) as isize))
            }
        }
    }
}
