//! Criterion benchmarks of the generated derivative functions, one id per
//! workload (see `common/mod.rs`). Run: `cargo bench --bench workloads`.
//! Samples are few and short so the whole run stays within a few minutes on
//! two cores; `bench/compare` is the place for the cross-library numbers.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;

/// As in `compare_ours`: a caching allocator (see the README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn workloads(c: &mut Criterion) {
    let mut group = c.benchmark_group("transforms");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for w in common::all() {
        assert_eq!(
            (w.run)().shape(),
            &w.out_shape[..],
            "{}: {}",
            w.name,
            w.what
        );
        // Throughput in result elements per second.
        group.throughput(Throughput::Elements(w.out_numel() as u64));
        group.bench_function(w.name, |b| b.iter(|| black_box((w.run)())));
    }
    group.finish();
}

criterion_group!(benches, workloads);
criterion_main!(benches);
