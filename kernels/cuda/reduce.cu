// Sums over a subset of dims: `sum_<ty>(n_out, nk, nr, info, x, y)`, where
// `info` holds the kept dims (`nk`), their strides in `x` (`nk`), the summed
// dims (`nr`) and their strides (`nr`); output element `o` (row-major over
// the kept dims) is the sum of `x` over the summed dims. One thread per
// output element, accumulating in the element type (first version: simple,
// not tuned). Needs prelude.cuh.

#define SUM_T(T, TY) \
    extern "C" __global__ void sum_##TY(u64 n_out, int nk, int nr, const u64* info, \
                                        const T* x, T* y) { \
        const u64* kdims = info; \
        const u64* kstr = info + nk; \
        const u64* rdims = info + 2 * nk; \
        const u64* rstr = info + 2 * nk + nr; \
        u64 count = 1; \
        for (int d = 0; d < nr; ++d) count *= rdims[d]; \
        GRID_STRIDE(o, n_out) { \
            u64 base = offset_of(o, nk, kdims, kstr); \
            T acc = T(0); \
            for (u64 r = 0; r < count; ++r) acc += x[base + offset_of(r, nr, rdims, rstr)]; \
            y[o] = acc; \
        } \
    }
SUM_T(float, f32)
SUM_T(double, f64)
