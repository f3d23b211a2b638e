//! Shape rules the generator tracks, so every program it writes is well
//! typed: numpy broadcasting, torch.matmul, reshapes.

/// Right-aligned numpy broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Whether `b` broadcasts into `a` without changing `a`'s shape.
pub fn fits_into(b: &[usize], a: &[usize]) -> bool {
    broadcast(a, b).is_some_and(|s| s == a)
}

/// torch.matmul's result shape, with the contracted size.
pub fn matmul(a: &[usize], b: &[usize]) -> Option<(Vec<usize>, usize)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() == 1 && b.len() == 1 {
        return (a[0] == b[0]).then(|| (Vec::new(), a[0]));
    }
    let a2: Vec<usize> = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Vec<usize> = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (ra, rb) = (a2.len(), b2.len());
    let k = a2[ra - 1];
    if k != b2[rb - 2] {
        return None;
    }
    let mut out = broadcast(&a2[..ra - 2], &b2[..rb - 2])?;
    if a.len() > 1 {
        out.push(a2[ra - 2]);
    }
    if b.len() > 1 {
        out.push(b2[rb - 1]);
    }
    Some((out, k))
}

pub fn numel(s: &[usize]) -> usize {
    s.iter().product()
}

/// `[a, b]` as Rust source.
pub fn list(s: &[usize]) -> String {
    let items: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    format!("[{}]", items.join(", "))
}
