//! Peak heap during one Hessian call, as a multiple of the result's bytes
//! (the speed issue's item 4: "about twice the output"), counted by a
//! global allocator on the calling thread only. The values are checked
//! too (against the closed forms), so a bound met by a wrong answer fails.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use transforms::prelude::*;

struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted (const: no lazy
    /// initialisation, so no allocation inside the allocator).
    static ON: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    if ON.with(Cell::get) {
        let live = LIVE.with(|l| {
            l.set(l.get() + delta);
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(live)));
    }
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count(new as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The result of `run` and its peak heap growth in bytes (result included).
fn peak<R>(run: impl FnOnce() -> R) -> (R, isize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ON.with(|o| o.set(true));
    let out = run();
    ON.with(|o| o.set(false));
    (out, PEAK.with(Cell::get))
}

#[hessian(argnums = 0)]
fn quad(x: &Tensor, m: &Tensor) -> Tensor {
    x.matmul(m).matmul(x) * 0.5 + x.tanh().sum()
}

#[hessian(argnums = 2)]
#[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
fn layer(w: &Tensor, b: &Tensor, x: &Tensor) -> Tensor {
    linear(x, w, b).tanh()
}

#[test]
fn a_quadratic_forms_hessian_peaks_under_twice_its_result() {
    let n = 256;
    let (x, m) = (Tensor::randn(&[n], 1), Tensor::randn(&[n, n], 2));
    let (h, bytes) = peak(|| quad_hessian(&x, &m));
    // 0.5 (M + Mᵀ) + diag(tanh''(x)), tanh'' = -2 tanh (1 - tanh²).
    let (hv, mv, xv) = (h.to_vec(), m.to_vec(), x.to_vec());
    for i in 0..n {
        for j in 0..n {
            let t = xv[i].tanh();
            let d = if i == j {
                -2.0 * t * (1.0 - t * t)
            } else {
                0.0
            };
            let want = 0.5 * (mv[i * n + j] + mv[j * n + i]) + d;
            assert!(
                (hv[i * n + j] - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "H[{i},{j}]"
            );
        }
    }
    let result = (n * n * 4) as isize;
    // The result and a block of rows of each product (`ops::add_rows`):
    // 1.58x; 3.27x with the products made whole, 4.27x before sums stopped
    // folding across products.
    let ratio = bytes as f64 / result as f64;
    assert!(
        bytes <= result * 2,
        "peak {bytes} bytes, {ratio:.2}x the result"
    );
}

#[test]
fn a_layers_hessians_peak_at_their_result() {
    let (din, dout) = (24, 8);
    let (w, b) = (Tensor::randn(&[dout, din], 3), Tensor::randn(&[dout], 4));
    let x = Tensor::randn(&[din], 5);
    let (h, bytes) = peak(|| layer_hessian(&w, &b, &x));
    let result = (dout * din * din * 4) as isize;
    assert_eq!(h.shape(), &[dout, din, din]);
    assert!(
        bytes <= result + result / 10,
        "hessian: peak {bytes}, result {result}"
    );
    // H[o] = tanh''(z_o) w_o w_oᵀ.
    let (hv, wv, z) = (h.to_vec(), w.to_vec(), linear(&x, &w, &b).to_vec());
    for o in 0..dout {
        let t = z[o].tanh();
        let s = -2.0 * t * (1.0 - t * t);
        for i in 0..din {
            for j in 0..din {
                let want = s * wv[o * din + i] * wv[o * din + j];
                let got = hv[(o * din + i) * din + j];
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "H[{o},{i},{j}]"
                );
            }
        }
    }
    let xs = Tensor::randn(&[6, din], 6);
    let (hb, bytes) = peak(|| batch_hessian(&w, &b, &xs));
    let result = (6 * dout * din * din * 4) as isize;
    assert!(
        bytes <= result + result / 10,
        "batch: peak {bytes}, result {result}"
    );
    for e in 0..6 {
        let one = layer_hessian(&w, &b, &xs.select(0, e));
        let (got, want) = (hb.select(0, e).to_vec(), one.to_vec());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1e-5, "example {e}: off by {worst}");
    }
}
