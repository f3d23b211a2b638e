// Broadcasting and strided kernels. `info` holds the output dims (`ndim`
// entries) followed by one row of `ndim` element strides per operand
// (stride 0 on broadcast dims, permuted strides for transposes):
// - `binary_<op>_<ty>(n, ndim, info, a, b, y)`: y[i] = t_<op>(a[..], b[..]);
// - `where_<ty>(n, ndim, info, c, a, b, y)`: torch.where(c != 0, a, b);
// - `copy_<ty>(n, ndim, info, offset, x, y)`: y[i] = x[offset + ..], the
//   gather behind broadcast_to, permutations and narrow.
// Each also has an `_i32` form taking `(u32 n, Index32 ix, ..)` instead of
// `(n, ndim, info, ..)`: the one launched when the index fits.
// Needs prelude.cuh.

#define BINARY_T(NAME, T, TY) \
    extern "C" __global__ void binary_##NAME##_##TY(u64 n, int ndim, const u64* info, \
                                                    const T* a, const T* b, T* y) { \
        GRID_STRIDE(i, n) { \
            T u = a[offset_of(i, ndim, info, info + ndim)]; \
            T v = b[offset_of(i, ndim, info, info + 2 * ndim)]; \
            y[i] = t_##NAME(u, v); \
        } \
    } \
    extern "C" __global__ void binary_##NAME##_##TY##_i32(u32 n, Index32 ix, const T* a, \
                                                          const T* b, T* y) { \
        GRID_STRIDE(i, n) { \
            u32 off[2]; \
            offsets32<2>((u32)i, ix, off); \
            y[i] = t_##NAME(a[off[0]], b[off[1]]); \
        } \
    }
#define BINARY(NAME) BINARY_T(NAME, float, f32) BINARY_T(NAME, double, f64)

BINARY(add)
BINARY(sub)
BINARY(mul)
BINARY(div)
BINARY(maximum)
BINARY(minimum)
BINARY(gt)
BINARY(lt)
BINARY(ge)
BINARY(le)

#define WHERE_T(T, TY) \
    extern "C" __global__ void where_##TY(u64 n, int ndim, const u64* info, const T* c, \
                                          const T* a, const T* b, T* y) { \
        GRID_STRIDE(i, n) { \
            T w = c[offset_of(i, ndim, info, info + ndim)]; \
            T u = a[offset_of(i, ndim, info, info + 2 * ndim)]; \
            T v = b[offset_of(i, ndim, info, info + 3 * ndim)]; \
            y[i] = t_where(w, u, v); \
        } \
    } \
    extern "C" __global__ void where_##TY##_i32(u32 n, Index32 ix, const T* c, const T* a, \
                                                const T* b, T* y) { \
        GRID_STRIDE(i, n) { \
            u32 off[3]; \
            offsets32<3>((u32)i, ix, off); \
            y[i] = t_where(c[off[0]], a[off[1]], b[off[2]]); \
        } \
    }
WHERE_T(float, f32)
WHERE_T(double, f64)

#define COPY_T(T, TY) \
    extern "C" __global__ void copy_##TY(u64 n, int ndim, const u64* info, u64 offset, \
                                         const T* x, T* y) { \
        GRID_STRIDE(i, n) y[i] = x[offset + offset_of(i, ndim, info, info + ndim)]; \
    } \
    extern "C" __global__ void copy_##TY##_i32(u32 n, Index32 ix, u64 offset, const T* x, \
                                               T* y) { \
        GRID_STRIDE(i, n) { \
            u32 off; \
            offsets32<1>((u32)i, ix, &off); \
            y[i] = x[offset + off]; \
        } \
    }
COPY_T(float, f32)
COPY_T(double, f64)
