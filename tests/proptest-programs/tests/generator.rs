//! The generator itself: deterministic, independent of the count, in step
//! with the compiled table, and reaching the whole vocabulary.

use transforms_proptest_programs::generator::{self, DEFAULT_SEED, generate, parse_seed};
use transforms_proptest_programs::{HELPERS_SOURCE, PROGRAMS, SEED};

fn sources(seed: u64, n: usize) -> Vec<String> {
    generate(seed, n)
        .programs
        .iter()
        .map(|p| p.source())
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_programs() {
    let g = generate(7, 12);
    assert_eq!(
        generator::programs_file(&g),
        generator::programs_file(&generate(7, 12))
    );
    assert_ne!(sources(7, 12), sources(8, 12));
}

#[test]
fn program_i_does_not_depend_on_the_count() {
    let (few, many) = (sources(99, 5), sources(99, 40));
    assert_eq!(few[..], many[..5]);
}

#[test]
fn the_compiled_table_is_what_the_generator_draws() {
    let g = generate(SEED, PROGRAMS.len());
    let helpers: String = g.helpers.iter().map(|h| h.source.clone() + "\n").collect();
    assert_eq!(helpers, HELPERS_SOURCE);
    for (p, q) in PROGRAMS.iter().zip(&g.programs) {
        assert_eq!(p.source, q.source());
        assert_eq!(p.out_shape, q.out_shape.as_slice());
        assert_eq!(p.hessian.is_some(), q.out_shape.is_empty());
    }
}

#[test]
fn shape_rules() {
    use generator::shapes::{broadcast, fits_into, matmul};
    assert_eq!(broadcast(&[3, 1], &[4]), Some(vec![3, 4]));
    assert_eq!(broadcast(&[], &[2, 3]), Some(vec![2, 3]));
    assert_eq!(broadcast(&[3], &[4]), None);
    assert!(fits_into(&[3], &[2, 3]) && !fits_into(&[2, 3], &[3]));
    assert_eq!(matmul(&[3], &[3]), Some((vec![], 3)));
    assert_eq!(matmul(&[2, 3], &[3]), Some((vec![2], 3)));
    assert_eq!(matmul(&[3], &[3, 4]), Some((vec![4], 3)));
    assert_eq!(
        matmul(&[2, 1, 2, 3], &[3, 3, 4]),
        Some((vec![2, 3, 2, 4], 3))
    );
    assert_eq!(matmul(&[2, 3], &[4, 3]), None);
    assert_eq!(matmul(&[], &[3]), None);
}

#[test]
fn seeds_parse_in_decimal_and_hex() {
    assert_eq!(parse_seed("42"), Some(42));
    assert_eq!(parse_seed("0x2A"), Some(42));
    assert_eq!(parse_seed(" 0x7261_6e64 "), Some(0x7261_6e64));
    assert_eq!(parse_seed("seed"), None);
}

#[test]
fn programs_are_within_the_limits() {
    for p in generate(DEFAULT_SEED, 300).programs {
        let src = p.source();
        assert!((1..=3).contains(&p.params.len()), "{src}");
        assert!((3..=12).contains(&p.ops), "{} operations\n{src}", p.ops);
        assert!(p.argnum < p.params.len());
        assert_eq!(p.in_dims.len(), p.params.len());
        assert!(p.in_dims.iter().any(Option::is_some), "{src}");
        assert!(p.out_dim <= p.out_shape.len());
        assert_eq!(src.contains("#[hessian"), p.out_shape.is_empty());
        // The differentiated parameter reaches the output (a conservative check).
        assert!(src.contains(&format!("x{}", p.argnum)), "{src}");
    }
}

#[test]
fn the_vocabulary_is_reached() {
    let all: String = sources(DEFAULT_SEED, 300).concat();
    for word in [
        ".tanh()",
        ".exp()",
        ".ln()",
        ".sin()",
        ".cos()",
        ".sqrt()",
        ".sigmoid()",
        ".square()",
        ".recip()",
        ".powf(",
        ".neg()",
        "= -",
        " + ",
        " - ",
        " * ",
        " / ",
        "= matmul(",
        ".matmul(",
        "&v",
        ".t())",
        "linear(",
        ".sum()",
        ".sum_dim(",
        ".mean()",
        ".mean_dim(",
        "_dim(-",
        ".t();",
        ".transpose(",
        ".reshape(",
        "-1]",
        ".unsqueeze(",
        "for i in 0..",
        "for i in 1..=",
        ".rev()",
        "i as f64",
        "helpers::h",
        "#[hessian",
        "#[vmap(in_dims = (",
    ] {
        assert!(all.contains(word), "no program contains `{word}`");
    }
}
