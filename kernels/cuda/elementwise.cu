// Elementwise kernels over contiguous buffers: `unary_<op>_<ty>(n, x, y)`,
// `scalar_<op>_<ty>(n, x, s, y)` and `scalar2_<op>_<ty>(n, x, lo, hi, y)`,
// `y[i] = t_<op>(x[i], ..)`. Needs prelude.cuh.

#define UNARY(NAME) \
    extern "C" __global__ void unary_##NAME##_f32(u64 n, const float* x, float* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i]); \
    } \
    extern "C" __global__ void unary_##NAME##_f64(u64 n, const double* x, double* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i]); \
    }

#define SCALAR(NAME) \
    extern "C" __global__ void scalar_##NAME##_f32(u64 n, const float* x, float s, float* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i], s); \
    } \
    extern "C" __global__ void scalar_##NAME##_f64(u64 n, const double* x, double s, double* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i], s); \
    }

#define SCALAR2(NAME) \
    extern "C" __global__ void scalar2_##NAME##_f32(u64 n, const float* x, float lo, float hi, \
                                                    float* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i], lo, hi); \
    } \
    extern "C" __global__ void scalar2_##NAME##_f64(u64 n, const double* x, double lo, \
                                                    double hi, double* y) { \
        GRID_STRIDE(i, n) y[i] = t_##NAME(x[i], lo, hi); \
    }

UNARY(neg)
UNARY(exp)
UNARY(ln)
UNARY(sin)
UNARY(cos)
UNARY(tanh)
UNARY(sqrt)
UNARY(sigmoid)
UNARY(relu)
UNARY(square)
UNARY(recip)
UNARY(heaviside)
UNARY(abs)
UNARY(exp2)
UNARY(log1p)
UNARY(sign)
UNARY(nonzero)

SCALAR(powf)
SCALAR(add_scalar)
SCALAR(sub_scalar)
SCALAR(mul_scalar)
SCALAR(div_scalar)
SCALAR(rsub_scalar)
SCALAR(rdiv_scalar)
SCALAR(gt_scalar)
SCALAR(lt_scalar)
SCALAR(ge_scalar)
SCALAR(le_scalar)

SCALAR2(clamp)
SCALAR2(in_range)
