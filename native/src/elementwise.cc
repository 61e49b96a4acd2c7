// Elementwise loops the compiler vectorizes; they replace tfjs-backend-cpu's per-element JavaScript: binary and
// unary arithmetic, the SGD update (scaledAdd) and column sums. Large ones are split into one contiguous range per
// OpenMP thread (parallelRanges); every element (and every column sum) is computed by the same operations in the
// same order as on one thread, so results do not depend on the number of threads.
#include "netspec_native.h"

#include <cmath>
#include <cstring>

namespace netspec {
namespace {

// The length of a Uint8Array argument (tfjs's storage of bool tensors).
uint8_t* boolArray(napi_env env, napi_value value, size_t* length, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  napi_typedarray_type type;
  void* data = nullptr;
  if (isTyped) check(env, napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr), "info");
  if (!isTyped || type != napi_uint8_array) throw Fail{std::string(name) + " must be a Uint8Array"};
  return static_cast<uint8_t*>(data);
}

// How a binary kernel's operands cover its output of n elements: each is out-sized, or the smaller one either
// repeats as a block (a scalar, or the trailing axes of the output: spread 1), or each of its elements serves
// `spread` consecutive outputs (its shape is the output's leading axes, as a [N, 1] row maximum against [N, K]
// logits).
struct Operands {
  size_t la, lb, n, spread;
};

Operands operands(napi_env env, const std::vector<napi_value>& argv, size_t n, const char* kernel) {
  Operands o{floatLength(env, argv[1], "a"), floatLength(env, argv[2], "b"), n, 1};
  if (argv.size() > 4 && isPresent(env, argv[4])) {
    int64_t spread = 0;
    check(env, napi_get_value_int64(env, argv[4], &spread), "spread");
    if (spread <= 0) throw Fail{std::string(kernel) + ": spread must be positive"};
    o.spread = static_cast<size_t>(spread);
  }
  const size_t small = std::min(o.la, o.lb);
  const bool fits = o.spread == 1 ? (o.la == n || (o.la != 0 && n % o.la == 0)) && (o.lb == n || (o.lb != 0 && n % o.lb == 0))
                                  : small * o.spread == n;
  if (!fits || (o.la != n && o.lb != n))
    throw Fail{std::string(kernel) + ": operands must be out-sized or repeat evenly, and one must be out-sized"};
  return o;
}

template <typename Out, typename Op>
void binaryLoop(const float* a, const float* b, Out* out, const Operands& o, Op op) {
  const size_t la = o.la, lb = o.lb, n = o.n;
  if (la == n && lb == n) {
    parallelRanges(n, kParallelMin, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) out[i] = op(a[i], b[i]);
    });
  } else if (la == 1) {
    const float s = a[0];
    parallelRanges(n, kParallelMin, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) out[i] = op(s, b[i]);
    });
  } else if (lb == 1) {
    const float s = b[0];
    parallelRanges(n, kParallelMin, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) out[i] = op(a[i], s);
    });
  } else if (o.spread > 1) {
    const size_t spread = o.spread;
    parallelRanges(n / spread, grainOf(spread), [&](size_t begin, size_t end) {
      for (size_t block = begin; block < end; block++) {
        const size_t start = block * spread;
        if (lb < n) {
          const float s = b[block];
          for (size_t j = 0; j < spread; j++) out[start + j] = op(a[start + j], s);
        } else {
          const float s = a[block];
          for (size_t j = 0; j < spread; j++) out[start + j] = op(s, b[start + j]);
        }
      }
    });
  } else if (lb < n) {
    parallelRanges(n / lb, grainOf(lb), [&](size_t begin, size_t end) {
      for (size_t block = begin; block < end; block++) {
        const size_t start = block * lb;
        for (size_t j = 0; j < lb; j++) out[start + j] = op(a[start + j], b[j]);
      }
    });
  } else {
    parallelRanges(n / la, grainOf(la), [&](size_t begin, size_t end) {
      for (size_t block = begin; block < end; block++) {
        const size_t start = block * la;
        for (size_t j = 0; j < la; j++) out[start + j] = op(a[j], b[start + j]);
      }
    });
  }
}

}  // namespace

// JavaScript's Math.min / Math.max, as tfjs-backend-cpu computes them: NaN when either operand is NaN, and -0
// below +0. Written without branches so that the loops vectorize: equal operands differ only in a zero's sign,
// which OR (min: -0 wins) or AND (max: +0 wins) of the bits settles; x + y is NaN when either is.
inline uint32_t bitsOf(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline float fromBits(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
inline float minimum(float x, float y) {
  float m = y < x ? y : x;
  m = x == y ? fromBits(bitsOf(x) | bitsOf(y)) : m;
  return x != x || y != y ? x + y : m;
}
inline float maximum(float x, float y) {
  float m = y > x ? y : x;
  m = x == y ? fromBits(bitsOf(x) & bitsOf(y)) : m;
  return x != x || y != y ? x + y : m;
}

// binary(op, a, b, out[, spread]): op 0 add, 1 sub, 2 mul, 3 div, 4 minimum, 5 maximum. Each operand is
// out-sized or covers the output as Operands says (spread: each element of the smaller one serves that many
// consecutive outputs; 1 or absent: it repeats as a block); the caller checks the shapes. out may be a or b.
napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4, 5);
    int32_t op = 0;
    check(env, napi_get_value_int32(env, argv[0], &op), "op");
    const Operands o = operands(env, argv, floatLength(env, argv[3], "out"), "binary");
    const float* a = floatArray(env, argv[1], o.la, "a");
    const float* b = floatArray(env, argv[2], o.lb, "b");
    float* out = floatArray(env, argv[3], o.n, "out");
    switch (op) {
      case 0: binaryLoop(a, b, out, o, [](float x, float y) { return x + y; }); break;
      case 1: binaryLoop(a, b, out, o, [](float x, float y) { return x - y; }); break;
      case 2: binaryLoop(a, b, out, o, [](float x, float y) { return x * y; }); break;
      case 3: binaryLoop(a, b, out, o, [](float x, float y) { return x / y; }); break;
      case 4: binaryLoop(a, b, out, o, minimum); break;
      case 5: binaryLoop(a, b, out, o, maximum); break;
      default: throw Fail{"binary: unknown op"};
    }
    return nullptr;
  });
}

// compare(op, a, b, out[, spread]): out (a Uint8Array, tfjs's bool storage) = 1 where a op b holds, else 0 (NaN
// compares false): op 0 greater, 1 greater-or-equal, 2 less, 3 less-or-equal. Operands as for binary.
napi_value Compare(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4, 5);
    int32_t op = 0;
    check(env, napi_get_value_int32(env, argv[0], &op), "op");
    size_t n = 0;
    uint8_t* out = boolArray(env, argv[3], &n, "out");
    const Operands o = operands(env, argv, n, "compare");
    const float* a = floatArray(env, argv[1], o.la, "a");
    const float* b = floatArray(env, argv[2], o.lb, "b");
    switch (op) {
      case 0: binaryLoop(a, b, out, o, [](float x, float y) -> uint8_t { return x > y; }); break;
      case 1: binaryLoop(a, b, out, o, [](float x, float y) -> uint8_t { return x >= y; }); break;
      case 2: binaryLoop(a, b, out, o, [](float x, float y) -> uint8_t { return x < y; }); break;
      case 3: binaryLoop(a, b, out, o, [](float x, float y) -> uint8_t { return x <= y; }); break;
      default: throw Fail{"compare: unknown op"};
    }
    return nullptr;
  });
}

// unary(op, x, out, alpha), out may be x: op 0 relu (x < 0 ? 0 : x, NaN kept), 1 step (NaN kept, x > 0 ? 1 :
// alpha), 2 square, 3 negate, 4 1/sqrt(x), 5 exp, 6 log (4-6 in float64 and rounded, as tfjs-backend-cpu
// computes them with Math).
napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    int32_t op = 0;
    check(env, napi_get_value_int32(env, argv[0], &op), "op");
    double alpha = 0;
    check(env, napi_get_value_double(env, argv[3], &alpha), "alpha");
    const size_t n = floatLength(env, argv[1], "x");
    const float* x = floatArray(env, argv[1], n, "x");
    float* out = floatArray(env, argv[2], n, "out");
    const float a = static_cast<float>(alpha);
    auto run = [&](auto f) {
      parallelRanges(n, kParallelMin, [&](size_t begin, size_t end) {
        // A local copy: a float captured by reference could change with each store to out, which stops the
        // compiler from vectorizing. (x and out may be the same array.)
        const auto op = f;
        for (size_t i = begin; i < end; i++) out[i] = op(x[i]);
      });
    };
    switch (op) {
      case 0: run([](float v) { return v < 0.0f ? 0.0f : v; }); break;
      case 1: run([a](float v) { return v != v ? v : (v > 0.0f ? 1.0f : a); }); break;
      case 2: run([](float v) { return v * v; }); break;
      case 3: run([](float v) { return -v; }); break;
      case 4: run([](float v) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(v))); }); break;
      case 5: run([](float v) { return static_cast<float>(std::exp(static_cast<double>(v))); }); break;
      case 6: run([](float v) { return static_cast<float>(std::log(static_cast<double>(v))); }); break;
      default: throw Fail{"unary: unknown op"};
    }
    return nullptr;
  });
}

namespace {

// scaledAdd(x, y, alpha, out): out = x + alpha * y in one pass (an SGD update: weights + (-lr) * gradient, which
// tfjs's optimizer computes as a Mul then an Add, two passes over every weight). The product is rounded to float32
// before the sum, as those two kernels do; no fused multiply-add may contract it.
__attribute__((optimize("fp-contract=off"))) void scaledAddLoop(const float* x, const float* y, float alpha,
                                                                  float* out, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const float product = alpha * y[i];
    out[i] = x[i] + product;
  }
}

}  // namespace

napi_value ScaledAdd(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    const size_t n = floatLength(env, argv[0], "x");
    const float* x = floatArray(env, argv[0], n, "x");
    const float* y = floatArray(env, argv[1], n, "y");
    double alpha = 0;
    check(env, napi_get_value_double(env, argv[2], &alpha), "alpha");
    float* out = floatArray(env, argv[3], n, "out");
    const float a = static_cast<float>(alpha);
    parallelRanges(n, kParallelMin, [&](size_t begin, size_t end) { scaledAddLoop(x, y, a, out, begin, end); });
    return nullptr;
  });
}

// sumRows(x, out, scale): x viewed as [rows, cols] with cols = out.length; out[c] = scale * sum over rows, each
// column summed in row order in float64 (threads split the columns, so the order never changes).
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 3);
    const size_t n = floatLength(env, argv[0], "x"), cols = floatLength(env, argv[1], "out");
    if (cols == 0 || n % cols != 0) throw Fail{"sumRows: x does not divide into rows of out.length"};
    double scale = 1;
    check(env, napi_get_value_double(env, argv[2], &scale), "scale");
    const float* x = floatArray(env, argv[0], n, "x");
    float* out = floatArray(env, argv[1], cols, "out");
    const size_t rows = n / cols;
    // Threads read parts of each row; narrower parts than 128 columns were slower than one thread.
    const size_t grain = std::max<size_t>(128, grainOf(rows));
    parallelRanges(cols, grain, [&](size_t begin, size_t end) {
      std::vector<double> acc(end - begin, 0.0);
      double* sums = acc.data();
      const size_t width = end - begin;
      for (size_t r = 0; r < rows; r++) {
        const float* row = x + r * cols + begin;
        for (size_t c = 0; c < width; c++) sums[c] += row[c];
      }
      for (size_t c = 0; c < width; c++) out[begin + c] = static_cast<float>(sums[c] * scale);
    });
    return nullptr;
  });
}

}  // namespace netspec
