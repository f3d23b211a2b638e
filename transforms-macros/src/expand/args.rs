//! Resolution of `argnums` and `in_dims` against the function's parameters.

use crate::errors::Errors;
use crate::ir::{Func, ParamKind};
use crate::spec::{InDims, Spec};

/// Resolves `argnums` against `f`'s parameters.
pub fn argnums(spec: &Spec, f: &Func, errs: &mut Errors) -> Option<(Vec<usize>, bool)> {
    let n = f.params.len() as isize;
    let Some(a) = &spec.argnums else {
        return match f.params.first() {
            Some(p) if p.var().is_some() => Some((vec![0], false)),
            Some(p) => {
                errs.at(
                    p.name.span(),
                    format!(
                        "argnums defaults to 0, but parameter `{}` is not a tensor; set `argnums`",
                        p.name
                    ),
                );
                None
            }
            None => {
                errs.at(spec.span, "the function has no parameters to differentiate");
                None
            }
        };
    };
    if a.items.is_empty() && a.tuple {
        errs.at(a.span, "argnums must name at least one parameter");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for it in &a.items {
        let i = if it.value < 0 { it.value + n } else { it.value };
        if i < 0 || i >= n {
            errs.spanned(
                &it.tokens,
                format!(
                    "argnums {} is out of range: the function has {n} parameter(s)",
                    it.value
                ),
            );
            ok = false;
            continue;
        }
        let i = i as usize;
        if out.contains(&i) {
            errs.spanned(&it.tokens, format!("argnums names parameter {i} twice"));
            ok = false;
            continue;
        }
        if let ParamKind::Scalar = f.params[i].kind {
            errs.spanned(
                &it.tokens,
                format!(
                    "argnums {} names `{}`, which is not a tensor (`&Tensor`) parameter",
                    it.value, f.params[i].name
                ),
            );
            ok = false;
            continue;
        }
        out.push(i);
    }
    ok.then_some((out, a.tuple))
}

pub fn in_dims(spec: &Spec, f: &Func, errs: &mut Errors) -> Option<Vec<Option<isize>>> {
    let dims: Vec<Option<isize>> = match &spec.in_dims {
        None | Some(InDims::All(_)) => {
            let d = match &spec.in_dims {
                Some(InDims::All(i)) => i.value,
                _ => 0,
            };
            if let Some(p) = f.params.iter().find(|p| p.var().is_none()) {
                let msg = format!(
                    "in_dims = {d} maps every argument, but `{}` is a scalar; give a tuple with `None` for it",
                    p.name
                );
                match &spec.in_dims {
                    Some(InDims::All(i)) => errs.spanned(&i.tokens, msg),
                    _ => errs.at(p.name.span(), msg),
                }
                return None;
            }
            f.params.iter().map(|_| Some(d)).collect()
        }
        Some(InDims::Each(items, span)) => {
            if items.len() != f.params.len() {
                errs.at(
                    *span,
                    format!(
                        "in_dims has {} entries but the function has {} parameter(s)",
                        items.len(),
                        f.params.len()
                    ),
                );
                return None;
            }
            let mut ok = true;
            for ((d, s), p) in items.iter().zip(&f.params) {
                if d.is_some() && p.var().is_none() {
                    errs.at(
                        *s,
                        format!("`{}` is a scalar and cannot be mapped: use `None`", p.name),
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
            items.iter().map(|(d, _)| *d).collect()
        }
    };
    if dims.iter().all(Option::is_none) {
        let span = match &spec.in_dims {
            Some(InDims::Each(_, span)) => *span,
            _ => spec.span,
        };
        errs.at(
            span,
            "vmap needs at least one mapped argument (in_dims are all None)",
        );
        return None;
    }
    Some(dims)
}
