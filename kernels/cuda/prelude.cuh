// Shared by every kernel source of the CUDA backend (prepended as text, so
// NVRTC needs no include paths): the index type, a grid-stride loop, the
// strided offset of a flat index, and the per-element functions: the CUDA
// twins of transforms-runtime's `elem` module, with the same NaN and tie
// conventions. Fused chains the compiler emits call these by name.

typedef unsigned long long u64;

#define GRID_STRIDE(i, n) \
    for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < (n); \
         i += (u64)blockDim.x * gridDim.x)

// Offset, under `strides`, of the flat row-major index `i` of a tensor of
// shape `dims[0..ndim]`.
__device__ __forceinline__ u64 offset_of(u64 i, int ndim, const u64* dims,
                                         const u64* strides) {
    u64 off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
        u64 q = i % dims[d];
        i /= dims[d];
        off += q * strides[d];
    }
    return off;
}

// The 32-bit index of a strided kernel, passed by value (`Index32` of the
// kernels crate, field for field): the coalesced output dims with their
// magic divisors, and each operand's element strides. A kernel's `_i32`
// form takes one; its 64-bit form (dims and strides in a device array)
// serves what does not fit.
typedef unsigned int u32;
#define MAX_DIMS 6
#define MAX_OPERANDS 3
struct Index32 {
    u32 ndim;
    u32 dims[MAX_DIMS];
    u32 magic[MAX_DIMS];
    u32 shift[MAX_DIMS];
    u32 strides[MAX_OPERANDS][MAX_DIMS];
};

// The offsets in the first N operands of the flat output index `i`: per dim
// a multiply-high, an add and a shift (the outermost dim needs none).
template <int N>
__device__ __forceinline__ void offsets32(u32 i, const Index32& ix, u32* off) {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; --d) {
        if (d < (int)ix.ndim) {
            u32 r = i;
            if (d > 0) {
                u32 q = (u32)(((u64)__umulhi(i, ix.magic[d]) + i) >> ix.shift[d]);
                r = i - q * ix.dims[d];
                i = q;
            }
#pragma unroll
            for (int k = 0; k < N; ++k) off[k] += r * ix.strides[k][d];
        }
    }
}

#define T_MATH1(NAME, F32, F64) \
    __device__ __forceinline__ float NAME(float x) { return F32(x); } \
    __device__ __forceinline__ double NAME(double x) { return F64(x); }

T_MATH1(t_exp, expf, exp)
T_MATH1(t_ln, logf, log)
T_MATH1(t_sin, sinf, sin)
T_MATH1(t_cos, cosf, cos)
T_MATH1(t_tanh, tanhf, tanh)
T_MATH1(t_sqrt, sqrtf, sqrt)
T_MATH1(t_abs, fabsf, fabs)
T_MATH1(t_exp2, exp2f, exp2)
T_MATH1(t_log1p, log1pf, log1p)

__device__ __forceinline__ float t_powf(float x, float c) { return powf(x, c); }
__device__ __forceinline__ double t_powf(double x, double c) { return pow(x, c); }

template <typename T> __device__ __forceinline__ T t_mask(bool c) { return c ? T(1) : T(0); }
template <typename T> __device__ __forceinline__ T t_neg(T x) { return -x; }
// Split so that exp never overflows.
template <typename T> __device__ __forceinline__ T t_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + t_exp(-x));
    T e = t_exp(x);
    return e / (T(1) + e);
}
// NaN propagates.
template <typename T> __device__ __forceinline__ T t_relu(T x) { return x < T(0) ? T(0) : x; }
template <typename T> __device__ __forceinline__ T t_square(T x) { return x * x; }
template <typename T> __device__ __forceinline__ T t_recip(T x) { return T(1) / x; }
template <typename T> __device__ __forceinline__ T t_heaviside(T x) { return t_mask<T>(x > T(0)); }
// 0 at +-0, NaN propagates.
template <typename T> __device__ __forceinline__ T t_sign(T x) {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
}
// NaN counts as non-zero.
template <typename T> __device__ __forceinline__ T t_nonzero(T x) { return x == T(0) ? T(0) : T(1); }

template <typename T> __device__ __forceinline__ T t_add(T a, T b) { return a + b; }
template <typename T> __device__ __forceinline__ T t_sub(T a, T b) { return a - b; }
template <typename T> __device__ __forceinline__ T t_mul(T a, T b) { return a * b; }
template <typename T> __device__ __forceinline__ T t_div(T a, T b) { return a / b; }
// NaN propagates (torch.maximum / torch.minimum).
template <typename T> __device__ __forceinline__ T t_maximum(T a, T b) {
    return a > b ? a : (a <= b ? b : a + b);
}
template <typename T> __device__ __forceinline__ T t_minimum(T a, T b) {
    return a < b ? a : (a >= b ? b : a + b);
}
template <typename T> __device__ __forceinline__ T t_gt(T a, T b) { return t_mask<T>(a > b); }
template <typename T> __device__ __forceinline__ T t_lt(T a, T b) { return t_mask<T>(a < b); }
template <typename T> __device__ __forceinline__ T t_ge(T a, T b) { return t_mask<T>(a >= b); }
template <typename T> __device__ __forceinline__ T t_le(T a, T b) { return t_mask<T>(a <= b); }

// Ops with a scalar operand (the scalar second; `r*` put it first).
template <typename T> __device__ __forceinline__ T t_add_scalar(T x, T s) { return x + s; }
template <typename T> __device__ __forceinline__ T t_sub_scalar(T x, T s) { return x - s; }
template <typename T> __device__ __forceinline__ T t_mul_scalar(T x, T s) { return x * s; }
template <typename T> __device__ __forceinline__ T t_div_scalar(T x, T s) { return x / s; }
template <typename T> __device__ __forceinline__ T t_rsub_scalar(T x, T s) { return s - x; }
template <typename T> __device__ __forceinline__ T t_rdiv_scalar(T x, T s) { return s / x; }
template <typename T> __device__ __forceinline__ T t_gt_scalar(T x, T s) { return t_gt(x, s); }
template <typename T> __device__ __forceinline__ T t_lt_scalar(T x, T s) { return t_lt(x, s); }
template <typename T> __device__ __forceinline__ T t_ge_scalar(T x, T s) { return t_ge(x, s); }
template <typename T> __device__ __forceinline__ T t_le_scalar(T x, T s) { return t_le(x, s); }

// torch.clamp: `hi` wins when lo > hi; NaN propagates.
template <typename T> __device__ __forceinline__ T t_clamp(T x, T lo, T hi) {
    return t_minimum(t_maximum(x, lo), hi);
}
// The derivative of clamp: the bounds count as inside.
template <typename T> __device__ __forceinline__ T t_in_range(T x, T lo, T hi) {
    return t_mask<T>(lo <= x && x <= hi);
}
// `a` where c != 0, else `b`.
template <typename T> __device__ __forceinline__ T t_where(T c, T a, T b) { return c == T(0) ? b : a; }
