//! The attribute grammar: `#[outer(inner(..), key = value, ..)]`.
//!
//! Parsed leniently into a [`Spec`] so that every bad token is reported at its
//! own span; validation against the function happens in `expand`.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::Ident;

use crate::errors::Errors;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Grad,
    Vjp,
    Jvp,
    Jacrev,
    Jacfwd,
    Hessian,
    Vmap,
    ValueAndGrad,
    Jacobian,
    Linearize,
}

pub const TRANSFORMS: &str =
    "grad, vjp, jvp, jacrev, jacfwd, hessian, vmap, value_and_grad, jacobian, linearize";

impl Kind {
    pub fn from_name(s: &str) -> Option<Kind> {
        Some(match s {
            "grad" => Kind::Grad,
            "vjp" => Kind::Vjp,
            "jvp" => Kind::Jvp,
            "jacrev" => Kind::Jacrev,
            "jacfwd" => Kind::Jacfwd,
            "hessian" => Kind::Hessian,
            "vmap" => Kind::Vmap,
            "value_and_grad" => Kind::ValueAndGrad,
            "jacobian" => Kind::Jacobian,
            "linearize" => Kind::Linearize,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Grad => "grad",
            Kind::Vjp => "vjp",
            Kind::Jvp => "jvp",
            Kind::Jacrev => "jacrev",
            Kind::Jacfwd => "jacfwd",
            Kind::Hessian => "hessian",
            Kind::Vmap => "vmap",
            Kind::ValueAndGrad => "value_and_grad",
            Kind::Jacobian => "jacobian",
            Kind::Linearize => "linearize",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Vmap => &["in_dims", "out_dims", "chunk_size", "name"],
            Kind::Jacrev => &["argnums", "has_aux", "chunk_size", "name"],
            Kind::Grad
            | Kind::Vjp
            | Kind::Jvp
            | Kind::Jacfwd
            | Kind::Hessian
            | Kind::ValueAndGrad
            | Kind::Jacobian => &["argnums", "has_aux", "name"],
            Kind::Linearize => &["argnums", "name"],
        }
    }

    /// Transforms whose result is not a plain function of tensors (a
    /// pullback or linear-map object, or a run-time choice of mode): they
    /// must be outermost.
    pub fn outermost_only(self) -> bool {
        matches!(self, Kind::Vjp | Kind::Linearize | Kind::Jacobian)
    }
}

/// An integer with its tokens (for errors spanning all of them).
#[derive(Clone, Debug)]
pub struct Int {
    pub value: isize,
    pub tokens: TokenStream,
}

#[derive(Clone, Debug)]
pub struct Argnums {
    pub items: Vec<Int>,
    pub tuple: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum InDims {
    /// One int for every argument.
    All(Int),
    /// One entry per parameter.
    Each(Vec<(Option<isize>, Span)>, Span),
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: Kind,
    pub span: Span,
    pub inner: Option<Box<Spec>>,
    pub argnums: Option<Argnums>,
    pub in_dims: Option<InDims>,
    pub out_dims: Option<Int>,
    pub name: Option<Ident>,
    /// `has_aux = true`: the function returns `(output, aux)`; the span of `true`.
    pub has_aux: Option<Span>,
    /// `chunk_size = k` (k >= 1, outermost only).
    pub chunk_size: Option<usize>,
}

/// Splits a token stream at top-level commas.
fn split_commas(ts: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    for tt in ts {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(Vec::new()),
            _ => parts.last_mut().map(|p| p.push(tt)).unwrap_or(()),
        }
    }
    if parts.last().is_some_and(Vec::is_empty) {
        parts.pop();
    }
    parts
}

fn span_of(tts: &[TokenTree], fallback: Span) -> Span {
    match (tts.first(), tts.last()) {
        (Some(a), Some(b)) => a.span().join(b.span()).unwrap_or_else(|| a.span()),
        _ => fallback,
    }
}

fn parse_int(tts: &[TokenTree], errs: &mut Errors, what: &str, fallback: Span) -> Option<Int> {
    let span = span_of(tts, fallback);
    let (neg, rest) = match tts.first() {
        Some(TokenTree::Punct(p)) if p.as_char() == '-' => (true, &tts[1..]),
        _ => (false, tts),
    };
    if let [TokenTree::Literal(lit)] = rest
        && let Ok(v) =
            syn::parse_str::<syn::LitInt>(&lit.to_string()).and_then(|l| l.base10_parse::<isize>())
    {
        return Some(Int {
            value: if neg { -v } else { v },
            tokens: tts.iter().cloned().collect(),
        });
    }
    let tokens: TokenStream = tts.iter().cloned().collect();
    if tokens.is_empty() {
        errs.at(span, format!("expected an integer for `{what}`"));
    } else {
        errs.spanned(tokens, format!("expected an integer for `{what}`"));
    }
    None
}

fn paren_items(tts: &[TokenTree]) -> Option<(Vec<Vec<TokenTree>>, Span)> {
    match tts {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            Some((split_commas(g.stream()), g.span()))
        }
        _ => None,
    }
}

fn parse_argnums(tts: &[TokenTree], errs: &mut Errors, fallback: Span) -> Option<Argnums> {
    let span = span_of(tts, fallback);
    if let Some((items, span)) = paren_items(tts) {
        let items: Vec<Int> = items
            .iter()
            .filter_map(|t| parse_int(t, errs, "argnums", span))
            .collect();
        return Some(Argnums {
            items,
            tuple: true,
            span,
        });
    }
    parse_int(tts, errs, "argnums", span).map(|i| Argnums {
        items: vec![i],
        tuple: false,
        span,
    })
}

fn parse_in_dims(tts: &[TokenTree], errs: &mut Errors, fallback: Span) -> Option<InDims> {
    if let Some((items, span)) = paren_items(tts) {
        let mut each = Vec::new();
        for item in &items {
            let s = span_of(item, span);
            match item.as_slice() {
                [TokenTree::Ident(i)] if i == "None" => each.push((None, s)),
                _ => each.push((parse_int(item, errs, "in_dims", s).map(|i| i.value), s)),
            }
        }
        return Some(InDims::Each(each, span));
    }
    parse_int(tts, errs, "in_dims", span_of(tts, fallback)).map(InDims::All)
}

/// `true` / `false`: `Some(Some(span of true))`, `Some(None)` or `None` on error.
fn parse_bool(tts: &[TokenTree], errs: &mut Errors, fallback: Span) -> Option<Option<Span>> {
    match tts {
        [TokenTree::Ident(i)] if i == "true" => Some(Some(i.span())),
        [TokenTree::Ident(i)] if i == "false" => Some(None),
        _ => {
            errs.at(
                span_of(tts, fallback),
                "expected `true` or `false` for `has_aux`",
            );
            None
        }
    }
}

/// `chunk_size = k`: a positive integer literal, on the outermost transform.
fn parse_chunk_size(
    tts: &[TokenTree],
    outermost: bool,
    key: &Ident,
    errs: &mut Errors,
) -> Option<usize> {
    let span = span_of(tts, key.span());
    let lit = match tts {
        [TokenTree::Literal(l)] => syn::parse_str::<syn::LitInt>(&l.to_string())
            .and_then(|l| l.base10_parse::<usize>())
            .ok(),
        _ => None,
    };
    let Some(k) = lit.filter(|&k| k > 0) else {
        errs.at(
            span,
            "`chunk_size` must be a positive integer literal, e.g. `chunk_size = 16`",
        );
        return None;
    };
    if !outermost {
        errs.at(
            key.span(),
            "`chunk_size` is only supported on the outermost transform",
        );
        return None;
    }
    Some(k)
}

/// Parses the arguments of `#[kind(...)]` (or of a nested `kind(...)`).
pub fn parse(
    kind: Kind,
    span: Span,
    args: TokenStream,
    outermost: bool,
    errs: &mut Errors,
) -> Spec {
    let mut spec = Spec {
        kind,
        span,
        inner: None,
        argnums: None,
        in_dims: None,
        out_dims: None,
        name: None,
        has_aux: None,
        chunk_size: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for (pos, part) in split_commas(args).into_iter().enumerate() {
        let part_span = span_of(&part, span);
        let Some(first) = part.first() else {
            errs.at(
                span,
                format!("empty argument in `{}` (a stray comma?)", kind.name()),
            );
            continue;
        };
        let TokenTree::Ident(key) = first else {
            errs.at(
                part_span,
                format!(
                    "expected `key = value` or a nested transform in `{}`",
                    kind.name()
                ),
            );
            continue;
        };
        let is_assign = matches!(part.get(1), Some(TokenTree::Punct(p)) if p.as_char() == '=');
        if !is_assign {
            // A nested transform: `jacrev` or `jacrev(...)`, first only.
            let key_s = key.to_string();
            let Some(inner_kind) = Kind::from_name(&key_s) else {
                if kind.keys().contains(&key_s.as_str()) {
                    errs.at(
                        key.span(),
                        format!("missing value for `{key_s}`: write `{key_s} = ...`"),
                    );
                } else {
                    errs.at(
                        key.span(),
                        format!("unknown transform `{key_s}`; expected one of: {TRANSFORMS}"),
                    );
                }
                continue;
            };
            if pos != 0 {
                errs.at(key.span(), "a nested transform must be the first argument");
                continue;
            }
            let inner_args = match &part[1..] {
                [] => TokenStream::new(),
                [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => g.stream(),
                rest => {
                    errs.at(
                        span_of(rest, part_span),
                        format!("malformed nested transform `{key_s}`: expected `{key_s}(...)`"),
                    );
                    continue;
                }
            };
            spec.inner = Some(Box::new(parse(
                inner_kind,
                key.span(),
                inner_args,
                false,
                errs,
            )));
            continue;
        }
        let key_s = key.to_string();
        let value = &part[2..];
        if !kind.keys().contains(&key_s.as_str()) {
            errs.at(
                key.span(),
                format!(
                    "unknown argument `{key_s}` for `{}`; expected one of: {}",
                    kind.name(),
                    kind.keys().join(", ")
                ),
            );
            continue;
        }
        if seen.contains(&key_s) {
            errs.at(key.span(), format!("duplicate argument `{key_s}`"));
            continue;
        }
        seen.push(key_s.clone());
        if value.is_empty() {
            errs.at(part_span, format!("missing value for `{key_s}`"));
            continue;
        }
        match key_s.as_str() {
            "argnums" => spec.argnums = parse_argnums(value, errs, part_span),
            "in_dims" => spec.in_dims = parse_in_dims(value, errs, part_span),
            "out_dims" => spec.out_dims = parse_int(value, errs, "out_dims", part_span),
            "has_aux" => spec.has_aux = parse_bool(value, errs, part_span).flatten(),
            "chunk_size" => spec.chunk_size = parse_chunk_size(value, outermost, key, errs),
            _ => match value {
                [TokenTree::Ident(i)] if outermost => spec.name = Some(i.clone()),
                [TokenTree::Ident(_)] => errs.at(
                    key.span(),
                    "`name` is only allowed on the outermost transform",
                ),
                _ => errs.at(
                    span_of(value, part_span),
                    "expected an identifier for `name`",
                ),
            },
        }
    }
    spec
}
