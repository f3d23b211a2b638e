//! The chunking helpers of `chunk_size`: slices, concatenation, basis rows.

use transforms_runtime::{Tensor, ops};

type T = Tensor<f64>;

fn iota(shape: &[usize]) -> T {
    let n: usize = shape.iter().product();
    T::from_shape_vec(shape, (0..n).map(|i| i as f64).collect()).unwrap()
}

#[test]
fn chunk_rows_matches_select_and_concat_inverts_it() {
    let x = iota(&[3, 5, 2]);
    for dim in [0isize, 1, 2, -2] {
        let d = dim.rem_euclid(3) as usize;
        let n = x.shape()[d];
        for k in [1, 2, n, n + 3] {
            let mut pieces = Vec::new();
            let mut s = 0;
            while s < n {
                let l = k.min(n - s);
                let p = ops::chunk_rows(&x, dim, s, l);
                assert_eq!(p.shape()[d], l);
                for i in 0..l {
                    assert_eq!(
                        p.select(dim, i).to_vec(),
                        x.select(dim, s + i).to_vec(),
                        "dim {dim} row {}",
                        s + i
                    );
                }
                pieces.push(p);
                s += l;
            }
            let back = ops::concat_chunks(&pieces, dim);
            assert_eq!(back.shape(), x.shape());
            assert_eq!(back.to_vec(), x.to_vec(), "dim {dim} k {k}");
        }
    }
}

#[test]
fn basis_rows_are_rows_of_the_identity() {
    let like = iota(&[2, 3]);
    let eye = T::eye(6);
    for (start, len) in [(0, 6), (1, 2), (4, 2), (5, 1), (3, 0)] {
        let b = ops::basis_rows(&like, start, len);
        assert_eq!(b.shape(), &[len, 2, 3]);
        for i in 0..len {
            assert_eq!(b.select(0, i).to_vec(), eye.select(0, start + i).to_vec());
        }
    }
}

#[test]
fn batch_len_and_total_numel() {
    let (a, b) = (iota(&[4, 2]), iota(&[3, 4]));
    assert_eq!(ops::chunk_batch_len(&[(&a, 0), (&b, -1)]), 4);
    assert_eq!(ops::total_numel(&[&a, &b]), 20);
}

#[test]
#[should_panic(
    expected = "transforms: vmap: mapped inputs have different sizes along their in_dims (4 along dim 0 and 3 along dim 0), shapes [4, 2] and [3, 4]"
)]
fn batch_len_mismatch_names_both_shapes() {
    let (a, b) = (iota(&[4, 2]), iota(&[3, 4]));
    ops::chunk_batch_len(&[(&a, 0), (&b, 0)]);
}

#[test]
#[should_panic(
    expected = "transforms: chunk_rows: rows 3..6 are out of range for dim 1 of size 5, shape [2, 5]"
)]
fn chunk_rows_out_of_range_panics() {
    ops::chunk_rows(&iota(&[2, 5]), 1, 3, 3);
}

#[test]
#[should_panic(
    expected = "transforms: concat_chunks: all dims but dim 0 must agree, shapes [2, 3] and [2, 4]"
)]
fn concat_mismatch_panics() {
    ops::concat_chunks(&[iota(&[2, 3]), iota(&[2, 4])], 0);
}
