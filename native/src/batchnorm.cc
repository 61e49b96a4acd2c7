// Batch normalization over the last (channel) axis: the inference form (running statistics) and the training
// form with its gradient, each one call over the tensor instead of the dozen elementwise kernels and reductions
// that tfjs would otherwise run per layer and step (netspec's BatchNorm layer, torch-layers.ts, uses them).
//
// The training kernels compute exactly what that layer's composite form computes on this backend, operation by
// operation in float32 (no fused multiply-add), with the column sums in float64 as sumRows takes them; only the
// order in which the float64 partial sums are added differs. The sums run over fixed blocks of rows, combined in
// block order, so the results do not depend on the number of threads.
#include "netspec_native.h"

#include <cmath>
#include <cstring>

#pragma GCC optimize("fp-contract=off")

namespace netspec {
namespace {

// Rows per block of the column sums.
constexpr size_t kRowBlock = 64;

// Float64 sums over the rows of a [rows, cols] view, `K` sums per column: add(row, acc) adds row `row`'s terms
// into acc[k * cols + c]. Each block of kRowBlock rows sums into its own partial row (blocks are split between
// the threads), and the partials are added up in block order into out[K * cols].
template <size_t K, typename Add>
void columnSums(size_t rows, size_t cols, Add add, double* out) {
  static std::vector<double> partials;  // calls never overlap (netspec_native.h)
  const size_t blocks = (rows + kRowBlock - 1) / kRowBlock, width = K * cols;
  partials.assign(blocks * width, 0.0);
  double* p = partials.data();
  parallelRanges(blocks, grainOf(kRowBlock * cols), [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; b++) {
      double* acc = p + b * width;
      const size_t last = std::min(rows, (b + 1) * kRowBlock);
      for (size_t r = b * kRowBlock; r < last; r++) add(r, acc);
    }
  });
  std::fill(out, out + width, 0.0);
  for (size_t b = 0; b < blocks; b++)
    for (size_t i = 0; i < width; i++) out[i] += p[b * width + i];
}

// Runs f(row) for every row of a [rows, cols] view, the rows split between the threads.
template <typename F>
void eachRow(size_t rows, size_t cols, F f) {
  parallelRanges(rows, grainOf(cols), [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; r++) f(r);
  });
}

// The rows of a [rows, C] tensor of `n` elements whose C-sized parameters give `c`; Fail unless they divide it into
// at least one row.
size_t rowsOf(size_t n, size_t c, const char* kernel) {
  if (c == 0 || n % c != 0 || n / c < 1) throw Fail{std::string(kernel) + ": x does not divide into C channels"};
  return n / c;
}

}  // namespace

// batchNorm(x, mean, variance, offset, scale, out, epsilon): channels-last; each parameter has 1 or C values
// (C = out's channel count, the length of the longest parameter), repeated along x as tfjs's cpu kernel does.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 7);
    const size_t n = floatLength(env, argv[0], "x");
    const size_t lm = floatLength(env, argv[1], "mean"), lv = floatLength(env, argv[2], "variance");
    const size_t lo = floatLength(env, argv[3], "offset"), ls = floatLength(env, argv[4], "scale");
    const size_t c = std::max(std::max(lm, lv), std::max(lo, ls));
    for (size_t l : {lm, lv, lo, ls})
      if (l != 1 && l != c) throw Fail{"batchNorm: every parameter must have 1 or C values"};
    if (c == 0 || n % c != 0) throw Fail{"batchNorm: x does not divide into C channels"};
    double epsilon = 0;
    check(env, napi_get_value_double(env, argv[6], &epsilon), "epsilon");
    const float* x = floatArray(env, argv[0], n, "x");
    const float* mean = floatArray(env, argv[1], lm, "mean");
    const float* variance = floatArray(env, argv[2], lv, "variance");
    const float* offset = floatArray(env, argv[3], lo, "offset");
    const float* scale = floatArray(env, argv[4], ls, "scale");
    float* out = floatArray(env, argv[5], n, "out");
    std::vector<float> a(c), b(c);
    for (size_t k = 0; k < c; k++) {
      const double variance64 = variance[lv == 1 ? 0 : k];
      const double factor = scale[ls == 1 ? 0 : k] / std::sqrt(variance64 + epsilon);
      a[k] = static_cast<float>(factor);
      b[k] = static_cast<float>(offset[lo == 1 ? 0 : k] - mean[lm == 1 ? 0 : k] * factor);
    }
    const float* pa = a.data();
    const float* pb = b.data();
    eachRow(n / c, c, [&](size_t row) {
      const size_t start = row * c;
      for (size_t k = 0; k < c; k++) out[start + k] = x[start + k] * pa[k] + pb[k];
    });
    return nullptr;
  });
}

// batchNormTraining(x, gamma, beta, epsilon, y, mean, variance, rstd): x viewed as [rows, C] (C = mean.length);
// gamma and beta (C values each) may both be null (no affine transform). Writes the batch mean, the biased
// variance, rstd = 1 / sqrt(variance + epsilon) and y = (x - mean) * (gamma * rstd) + beta, computed as
//   mean = sum(x) / rows, xc = x - mean, variance = sum(xc * xc) / rows, k = gamma * rstd, y = xc * k + beta.
napi_value BatchNormTraining(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 8);
    const size_t n = floatLength(env, argv[0], "x"), c = floatLength(env, argv[5], "mean");
    const size_t rows = rowsOf(n, c, "batchNormTraining");
    const float* x = floatArray(env, argv[0], n, "x");
    const bool affine = isPresent(env, argv[1]);
    const float* gamma = affine ? floatArray(env, argv[1], c, "gamma") : nullptr;
    const float* beta = affine ? floatArray(env, argv[2], c, "beta") : nullptr;
    double epsilon = 0;
    check(env, napi_get_value_double(env, argv[3], &epsilon), "epsilon");
    float* y = floatArray(env, argv[4], n, "y");
    float* mean = floatArray(env, argv[5], c, "mean");
    float* variance = floatArray(env, argv[6], c, "variance");
    float* rstd = floatArray(env, argv[7], c, "rstd");
    const double inverseRows = 1.0 / static_cast<double>(rows);
    std::vector<double> sums(c);
    columnSums<1>(rows, c, [&](size_t r, double* acc) {
      const float* row = x + r * c;
      for (size_t k = 0; k < c; k++) acc[k] += row[k];
    }, sums.data());
    for (size_t k = 0; k < c; k++) mean[k] = static_cast<float>(sums[k] * inverseRows);
    columnSums<1>(rows, c, [&](size_t r, double* acc) {
      const float* row = x + r * c;
      for (size_t k = 0; k < c; k++) {
        const float centered = row[k] - mean[k];
        const float square = centered * centered;
        acc[k] += square;
      }
    }, sums.data());
    const float eps = static_cast<float>(epsilon);
    std::vector<float> factor(c), shift(c, 0.0f);
    for (size_t k = 0; k < c; k++) {
      variance[k] = static_cast<float>(sums[k] * inverseRows);
      const float shifted = variance[k] + eps;
      rstd[k] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(shifted)));
      factor[k] = affine ? gamma[k] * rstd[k] : rstd[k];
      if (affine) shift[k] = beta[k];
    }
    const float* a = factor.data();
    const float* b = shift.data();
    eachRow(rows, c, [&](size_t r) {
      const float* in = x + r * c;
      float* out = y + r * c;
      for (size_t k = 0; k < c; k++) {
        const float scaled = (in[k] - mean[k]) * a[k];
        out[k] = affine ? scaled + b[k] : scaled;
      }
    });
    return nullptr;
  });
}

// batchNormTrainingGrad(dy, x, mean, rstd, gamma, dx, dgamma, dbeta): the gradient of batchNormTraining's y for
// the same x, mean, rstd and gamma (null when not affine; then dgamma and dbeta are null too):
//   dbeta = sum(dy), dgamma = sum(dy * xc) * rstd,
//   dx = (dy - xc * (dgamma * (rstd / rows)) - dbeta / rows) * k   (xc = x - mean, k = gamma * rstd).
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 8);
    const size_t n = floatLength(env, argv[0], "dy"), c = floatLength(env, argv[2], "mean");
    const size_t rows = rowsOf(n, c, "batchNormTrainingGrad");
    const float* dy = floatArray(env, argv[0], n, "dy");
    const float* x = floatArray(env, argv[1], n, "x");
    const float* mean = floatArray(env, argv[2], c, "mean");
    const float* rstd = floatArray(env, argv[3], c, "rstd");
    const bool affine = isPresent(env, argv[4]);
    const float* gamma = affine ? floatArray(env, argv[4], c, "gamma") : nullptr;
    float* dx = floatArray(env, argv[5], n, "dx");
    float* dgamma = affine ? floatArray(env, argv[6], c, "dgamma") : nullptr;
    float* dbeta = affine ? floatArray(env, argv[7], c, "dbeta") : nullptr;
    std::vector<double> sums(2 * c);
    columnSums<2>(rows, c, [&](size_t r, double* acc) {
      const float* g = dy + r * c;
      const float* in = x + r * c;
      for (size_t k = 0; k < c; k++) {
        acc[k] += g[k];
        const float centered = in[k] - mean[k];
        const float product = g[k] * centered;
        acc[c + k] += product;
      }
    }, sums.data());
    const float count = static_cast<float>(rows);
    std::vector<float> slope(c), offset(c), factor(c);
    for (size_t k = 0; k < c; k++) {
      const float sumDy = static_cast<float>(sums[k]);
      const float gradGamma = static_cast<float>(sums[c + k]) * rstd[k];
      if (affine) {
        dbeta[k] = sumDy;
        dgamma[k] = gradGamma;
      }
      const float perRow = rstd[k] / count;
      slope[k] = gradGamma * perRow;
      offset[k] = sumDy / count;
      factor[k] = affine ? gamma[k] * rstd[k] : rstd[k];
    }
    const float* s = slope.data();
    const float* o = offset.data();
    const float* f = factor.data();
    eachRow(rows, c, [&](size_t r) {
      const float* g = dy + r * c;
      const float* in = x + r * c;
      float* out = dx + r * c;
      for (size_t k = 0; k < c; k++) {
        const float centered = in[k] - mean[k];
        const float inner = (g[k] - centered * s[k]) - o[k];
        out[k] = inner * f[k];
      }
    });
    return nullptr;
  });
}

}  // namespace netspec
