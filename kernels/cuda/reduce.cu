// Sums over a subset of dims: `sum_<ty>(n_out, nk, nr, info, x, y)`, where
// `info` holds the kept dims (`nk`), their strides in `x` (`nk`), the summed
// dims (`nr`) and their strides (`nr`); output element `o` (row-major over
// the kept dims) is the sum of `x` over the summed dims. One thread per
// output element, accumulating in the element type.
// The `_i32` forms take `(u32 n_out, u32 count, Index32 kept, Index32 red,
// x, y)`, the kept and the summed dims with x's strides along them
// (operand 0): `sum_<ty>_i32` is one thread per output element, and
// `sum_rows_<ty>_i32` one block of 256 threads per output element (few
// outputs, long sums: a strided partial sum per thread, then a tree in
// shared memory). Needs prelude.cuh.

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

#define SUM32_T(T, TY) \
    extern "C" __global__ void sum_##TY##_i32(u32 n_out, u32 count, Index32 kept, \
                                              Index32 red, const T* x, T* y) { \
        GRID_STRIDE(o, n_out) { \
            u32 base; \
            offsets32<1>((u32)o, kept, &base); \
            T acc = T(0); \
            for (u32 r = 0; r < count; ++r) { \
                u32 off; \
                offsets32<1>(r, red, &off); \
                acc += x[base + off]; \
            } \
            y[o] = acc; \
        } \
    } \
    extern "C" __global__ void sum_rows_##TY##_i32(u32 n_out, u32 count, Index32 kept, \
                                                   Index32 red, const T* x, T* y) { \
        __shared__ T part[256]; \
        for (u32 o = blockIdx.x; o < n_out; o += gridDim.x) { \
            u32 base; \
            offsets32<1>(o, kept, &base); \
            T acc = T(0); \
            for (u32 r = threadIdx.x; r < count; r += blockDim.x) { \
                u32 off; \
                offsets32<1>(r, red, &off); \
                acc += x[base + off]; \
            } \
            part[threadIdx.x] = acc; \
            __syncthreads(); \
            for (u32 s = blockDim.x / 2; s > 0; s >>= 1) { \
                if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s]; \
                __syncthreads(); \
            } \
            if (threadIdx.x == 0) y[o] = part[0]; \
            __syncthreads(); \
        } \
    }
SUM32_T(float, f32)
SUM32_T(double, f64)
