// Ops along one dim of a contiguous tensor seen as blocks [outer, size,
// inner] around that dim (the CPU ops of transforms-runtime's
// `ops/slices.rs`, whose index arithmetic these follow):
// - `place_<ty>(n, len, size, inner, start, x, y)`: x [outer, len, inner]
//   written into y [outer, size, inner] at positions start..start + len of
//   the middle dim (y's other elements are left as they are): zero padding
//   (narrow's adjoint) and concatenation, one part per launch;
// - `gather_<ty>(n, nidx, size, inner, idx, x, y)`: y [outer, nidx, inner]
//   takes entry idx[j] of x's middle dim (index_select);
// - `index_add_<ty>(n, size, inner, nidx, starts, ks, x, y)`: y [outer,
//   size, inner] is the sum over the k with idx[k] = r of x [outer, nidx,
//   inner] at k, in increasing k (the host sorts the k by target: those
//   of target r are ks[starts[r]..starts[r + 1]]), so repeated indices add
//   in the CPU's order, with no atomics;
// - `max_<ty>(n, size, inner, shift, x, y)`: y [outer, inner] is the max of
//   x [outer, size, inner] over its middle dim (size >= 1), rows in order,
//   NaN propagating (t_maximum); with `shift`, non-finite maxima become 0
//   (the shift of softmax and logsumexp).
// Indices are checked on the host before launch. Needs prelude.cuh.

#define SLICES_T(T, TY) \
    extern "C" __global__ void place_##TY(u64 n, u64 len, u64 size, u64 inner, u64 start, \
                                          const T* x, T* y) { \
        GRID_STRIDE(i, n) { \
            u64 c = i % inner; \
            u64 r = (i / inner) % len; \
            u64 o = i / (inner * len); \
            y[(o * size + start + r) * inner + c] = x[i]; \
        } \
    } \
    extern "C" __global__ void gather_##TY(u64 n, u64 nidx, u64 size, u64 inner, \
                                           const u64* idx, const T* x, T* y) { \
        GRID_STRIDE(i, n) { \
            u64 c = i % inner; \
            u64 j = (i / inner) % nidx; \
            u64 o = i / (inner * nidx); \
            y[i] = x[(o * size + idx[j]) * inner + c]; \
        } \
    } \
    extern "C" __global__ void index_add_##TY(u64 n, u64 size, u64 inner, u64 nidx, \
                                              const u64* starts, const u64* ks, \
                                              const T* x, T* y) { \
        GRID_STRIDE(i, n) { \
            u64 c = i % inner; \
            u64 r = (i / inner) % size; \
            u64 o = i / (inner * size); \
            T acc = T(0); \
            for (u64 t = starts[r]; t < starts[r + 1]; ++t) \
                acc += x[(o * nidx + ks[t]) * inner + c]; \
            y[i] = acc; \
        } \
    } \
    extern "C" __global__ void max_##TY(u64 n, u64 size, u64 inner, int shift, const T* x, \
                                        T* y) { \
        GRID_STRIDE(i, n) { \
            u64 c = i % inner; \
            u64 o = i / inner; \
            T acc = x[o * size * inner + c]; \
            for (u64 r = 1; r < size; ++r) acc = t_maximum(acc, x[(o * size + r) * inner + c]); \
            y[i] = (shift && !isfinite(acc)) ? T(0) : acc; \
        } \
    }
SLICES_T(float, f32)
SLICES_T(double, f64)
