// Pooling and its gradients in NHWC, no dilation, with tfjs's semantics: padding is never part of a window (a max
// ignores it, an average divides by the in-bounds count), the first row-major maximum of a window gets the
// gradient, and the average's gradient is divided by the whole window size (as tfjs-backend-cpu's AvgPoolGrad
// does, padding or not).
#include "netspec_native.h"

#include <cmath>
#include <cstring>

namespace netspec {
namespace {

// dims: N, H, W, C, Ho, Wo, kh, kw, strideH, strideW, padTop, padLeft.
constexpr size_t kPoolDims = 12;

struct PoolShape {
  int64_t n, h, w, c, ho, wo, kh, kw, sh, sw, pt, pl;
  explicit PoolShape(const std::vector<int64_t>& d)
      : n(d[0]), h(d[1]), w(d[2]), c(d[3]), ho(d[4]), wo(d[5]), kh(d[6]), kw(d[7]), sh(d[8]), sw(d[9]), pt(d[10]),
        pl(d[11]) {
    for (auto v : d)
      if (v < 0) throw Fail{"pool: negative dimension"};
    if (kh == 0 || kw == 0 || sh == 0 || sw == 0) throw Fail{"pool: empty window or zero stride"};
  }
  size_t inSize() const { return static_cast<size_t>(n * h * w * c); }
  size_t outSize() const { return static_cast<size_t>(n * ho * wo * c); }
};

}  // namespace

// pool(op, x, y, dims): op 0 max (-Infinity where a window holds no number), 1 average (float64 sums).
napi_value Pool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    int32_t op = 0;
    check(env, napi_get_value_int32(env, argv[0], &op), "op");
    if (op != 0 && op != 1) throw Fail{"pool: op must be 0 (max) or 1 (average)"};
    const PoolShape s(intArray(env, argv[3], kPoolDims, "dims"));
    const float* x = floatArray(env, argv[1], s.inSize(), "x");
    float* y = floatArray(env, argv[2], s.outSize(), "y");
    const size_t c = static_cast<size_t>(s.c);
    parallelRanges(static_cast<size_t>(s.n * s.ho), grainOf(static_cast<size_t>(s.wo * s.kh * s.kw) * c),
                   [&](size_t begin, size_t end) {
                     std::vector<double> acc(op == 1 ? c : 0);
                     for (size_t row = begin; row < end; row++) {
                       const int64_t b = static_cast<int64_t>(row) / s.ho, oy = static_cast<int64_t>(row) % s.ho;
                       const int64_t y0 = oy * s.sh - s.pt;
                       const int64_t yFrom = std::max<int64_t>(0, y0), yTo = std::min(s.h, y0 + s.kh);
                       for (int64_t ox = 0; ox < s.wo; ox++) {
                         const int64_t x0 = ox * s.sw - s.pl;
                         const int64_t xFrom = std::max<int64_t>(0, x0), xTo = std::min(s.w, x0 + s.kw);
                         float* out = y + ((b * s.ho + oy) * s.wo + ox) * s.c;
                         if (op == 0) {
                           for (size_t k = 0; k < c; k++) out[k] = -INFINITY;
                           for (int64_t iy = yFrom; iy < yTo; iy++)
                             for (int64_t ix = xFrom; ix < xTo; ix++) {
                               const float* in = x + ((b * s.h + iy) * s.w + ix) * s.c;
                               for (size_t k = 0; k < c; k++) out[k] = in[k] > out[k] ? in[k] : out[k];
                             }
                         } else {
                           std::fill(acc.begin(), acc.end(), 0.0);
                           for (int64_t iy = yFrom; iy < yTo; iy++)
                             for (int64_t ix = xFrom; ix < xTo; ix++) {
                               const float* in = x + ((b * s.h + iy) * s.w + ix) * s.c;
                               for (size_t k = 0; k < c; k++) acc[k] += in[k];
                             }
                           const double count = static_cast<double>((yTo - yFrom) * (xTo - xFrom));
                           for (size_t k = 0; k < c; k++) out[k] = static_cast<float>(acc[k] / count);
                         }
                       }
                     }
                   });
    return nullptr;
  });
}

// maxPoolGrad(x, dy, dx, dims): dx = dy routed to each window's first row-major maximum of x (overwritten).
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    const PoolShape s(intArray(env, argv[3], kPoolDims, "dims"));
    const float* x = floatArray(env, argv[0], s.inSize(), "x");
    const float* dy = floatArray(env, argv[1], s.outSize(), "dy");
    float* dx = floatArray(env, argv[2], s.inSize(), "dx");
    const size_t c = static_cast<size_t>(s.c);
    const size_t image = static_cast<size_t>(s.h * s.w) * c;
    // Windows overlap within an image, so threads split the batch. Per window, each channel keeps the index of
    // its best tap (int32 beside float32, both 16 to a vector), then each tap adds the gradient of the channels
    // it won: no branches and no scattered writes, so both loops vectorize.
    parallelRanges(static_cast<size_t>(s.n), grainOf(image), [&](size_t begin, size_t end) {
      std::vector<float> bestStore(c);
      std::vector<int32_t> whereStore(c);
      float* __restrict best = bestStore.data();
      int32_t* __restrict where = whereStore.data();
      for (size_t b = begin; b < end; b++) {
        float* __restrict dxImage = dx + b * image;
        const float* __restrict xImage = x + b * image;
        std::memset(dxImage, 0, sizeof(float) * image);
        for (int64_t oy = 0; oy < s.ho; oy++) {
          const int64_t y0 = oy * s.sh - s.pt;
          const int64_t yFrom = std::max<int64_t>(0, y0), yTo = std::min(s.h, y0 + s.kh);
          for (int64_t ox = 0; ox < s.wo; ox++) {
            const int64_t x0 = ox * s.sw - s.pl;
            const int64_t xFrom = std::max<int64_t>(0, x0), xTo = std::min(s.w, x0 + s.kw);
            for (size_t k = 0; k < c; k++) {
              best[k] = -INFINITY;
              where[k] = -1;
            }
            int32_t tap = 0;
            for (int64_t iy = yFrom; iy < yTo; iy++)
              for (int64_t ix = xFrom; ix < xTo; ix++, tap++) {
                const float* __restrict in = xImage + (iy * s.w + ix) * s.c;
                // Strictly greater: the first maximum in row-major order wins, and NaN never does.
                for (size_t k = 0; k < c; k++) {
                  const bool better = in[k] > best[k];
                  best[k] = better ? in[k] : best[k];
                  where[k] = better ? tap : where[k];
                }
              }
            const float* __restrict g = dy + ((static_cast<int64_t>(b) * s.ho + oy) * s.wo + ox) * s.c;
            tap = 0;
            for (int64_t iy = yFrom; iy < yTo; iy++)
              for (int64_t ix = xFrom; ix < xTo; ix++, tap++) {
                float* __restrict out = dxImage + (iy * s.w + ix) * s.c;
                for (size_t k = 0; k < c; k++) out[k] += where[k] == tap ? g[k] : 0.0f;
              }
          }
        }
      }
    });
    return nullptr;
  });
}

// avgPoolGrad(dy, dx, dims): dx[i] = (sum of dy over the windows holding i, in row-major window order, float64)
// / (kh * kw).
napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 3);
    const PoolShape s(intArray(env, argv[2], kPoolDims, "dims"));
    const float* dy = floatArray(env, argv[0], s.outSize(), "dy");
    float* dx = floatArray(env, argv[1], s.inSize(), "dx");
    const size_t c = static_cast<size_t>(s.c);
    const double multiplier = 1.0 / static_cast<double>(s.kh * s.kw);
    // Output row oy covers input rows oy * sh - pt .. + kh - 1; the ones covering iy are a contiguous range.
    auto firstCovering = [](int64_t i, int64_t stride, int64_t pad, int64_t size) {
      const int64_t lowest = i + pad - size + 1;  // oy * stride >= lowest
      return lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
    };
    parallelRanges(static_cast<size_t>(s.n * s.h), grainOf(static_cast<size_t>(s.w) * c),
                   [&](size_t begin, size_t end) {
                     std::vector<double> acc(c);
                     for (size_t row = begin; row < end; row++) {
                       const int64_t b = static_cast<int64_t>(row) / s.h, iy = static_cast<int64_t>(row) % s.h;
                       const int64_t oyFrom = firstCovering(iy, s.sh, s.pt, s.kh);
                       const int64_t oyTo = std::min(s.ho, (iy + s.pt) / s.sh + 1);
                       for (int64_t ix = 0; ix < s.w; ix++) {
                         const int64_t oxFrom = firstCovering(ix, s.sw, s.pl, s.kw);
                         const int64_t oxTo = std::min(s.wo, (ix + s.pl) / s.sw + 1);
                         std::fill(acc.begin(), acc.end(), 0.0);
                         for (int64_t oy = oyFrom; oy < oyTo; oy++)
                           for (int64_t ox = oxFrom; ox < oxTo; ox++) {
                             const float* g = dy + ((b * s.ho + oy) * s.wo + ox) * s.c;
                             for (size_t k = 0; k < c; k++) acc[k] += g[k];
                           }
                         float* out = dx + ((b * s.h + iy) * s.w + ix) * s.c;
                         for (size_t k = 0; k < c; k++) out[k] = static_cast<float>(acc[k] * multiplier);
                       }
                     }
                   });
    return nullptr;
  });
}

}  // namespace netspec
