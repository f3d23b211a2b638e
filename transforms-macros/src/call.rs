//! `transform!(..)`: call-site transforms of differentiable functions, in the
//! attributes' grammar with the function in the innermost position, as
//! functorch writes them: `transform!(vmap(jacrev(predict, argnums = 2),
//! in_dims = (None, None, 0)))(&w, &b, &xs)`. The expansion is an expression:
//! a block holding the generated function, whose value is that function.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::{Ident, Path};

use crate::errors::Errors;
use crate::handoff::{self, Job, State};
use crate::spec::{self, Kind, TRANSFORMS};

fn split_first_arg(ts: TokenStream) -> (Vec<TokenTree>, Vec<TokenTree>) {
    let mut first = Vec::new();
    let mut it = ts.into_iter();
    for tt in it.by_ref() {
        if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
            break;
        }
        first.push(tt);
    }
    (first, it.collect())
}

/// Removes the function path from the innermost transform's arguments.
fn extract(args: TokenStream, span: Span, errs: &mut Errors) -> Option<(TokenStream, Path)> {
    let (first, rest) = split_first_arg(args);
    let rest: TokenStream = rest.into_iter().collect();
    if let [TokenTree::Ident(id), TokenTree::Group(g)] = first.as_slice()
        && g.delimiter() == Delimiter::Parenthesis
        && Kind::from_name(&id.to_string()).is_some()
    {
        let (inner, path) = extract(g.stream(), g.span(), errs)?;
        let mut g2 = Group::new(Delimiter::Parenthesis, inner);
        g2.set_span(g.span());
        let mut out: TokenStream = quote!(#id #g2);
        if !rest.is_empty() {
            out.extend(quote!(, #rest));
        }
        return Some((out, path));
    }
    let tokens: TokenStream = first.iter().cloned().collect();
    if tokens.is_empty() {
        errs.at(
            span,
            "expected the function to transform, e.g. `transform!(jacrev(f, argnums = 1))`",
        );
        return None;
    }
    match syn::parse2::<Path>(tokens.clone()) {
        Ok(p) => Some((rest, p)),
        Err(_) => {
            errs.spanned(
                tokens,
                format!(
                    "expected a `#[differentiable]` function's name or a nested transform ({TRANSFORMS})"
                ),
            );
            None
        }
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    let mut errs = Errors::default();
    let mut it = input.clone().into_iter();
    let parsed = match (it.next(), it.next(), it.next()) {
        (Some(TokenTree::Ident(kind)), Some(TokenTree::Group(g)), None)
            if g.delimiter() == Delimiter::Parenthesis =>
        {
            match Kind::from_name(&kind.to_string()) {
                Some(k) => extract(g.stream(), g.span(), &mut errs).map(|(a, p)| (kind, k, a, p)),
                None => {
                    errs.at(
                        kind.span(),
                        format!("unknown transform `{kind}`; expected one of: {TRANSFORMS}"),
                    );
                    None
                }
            }
        }
        _ => {
            errs.at(
                Span::call_site(),
                "expected `transform!(kind(f, ..))`, e.g. `transform!(jacrev(f, argnums = 1))`",
            );
            None
        }
    };
    if let Some((kind, k, args, _)) = &parsed {
        // Report grammar errors now rather than after the hand-off.
        spec::parse(*k, kind.span(), args.clone(), true, &mut errs);
    }
    match (errs.into_result(), parsed) {
        (Ok(()), Some((kind, _, args, target))) => {
            handoff::drive(Job::Transform { kind, args, target }, State::default())
        }
        (Err(e), _) => error_expr(e),
        (Ok(()), None) => error_expr(syn::Error::new(
            Span::call_site(),
            "transforms: internal error: no output and no error",
        )),
    }
}

fn error_expr(e: syn::Error) -> TokenStream {
    let e = e.into_compile_error();
    quote!({ #e })
}

/// Every callee resolved: generate the function and return it as a value.
pub fn finish(kind: &Ident, args: TokenStream, target: &Path, state: &State) -> TokenStream {
    let unique = state
        .map
        .iter()
        .find(|(k, _)| *k == handoff::path_key(target))
        .map(|(_, u)| u.to_string());
    let Some(item) = unique.as_deref().and_then(|u| state.get(u)) else {
        return error_expr(syn::Error::new(
            kind.span(),
            "transforms: internal error: the hand-off lost the function",
        ));
    };
    // Transform a call of the function (so that a custom rule applies),
    // not its body.
    let callee = syn::Ident::new(unique.as_deref().unwrap_or_default(), kind.span());
    let mut item = handoff::calling(item, &callee);
    item.vis = syn::Visibility::Inherited;
    item.attrs.clear();
    match crate::expand::finish_items(kind, args, &item, state, false) {
        Ok((items, name)) => quote!({ #items #name }),
        Err(e) => error_expr(e),
    }
}
