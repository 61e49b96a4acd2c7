// netspec's native CPU kernels: convolutions (forward, backward data, backward weights) and batched matrix
// products on oneDNN, called from JavaScript through Node-API on Float32Arrays that tfjs's cpu backend owns.
//
// Tensors are tfjs's layouts: activations NHWC, filters HWIO ([kh, kw, in, out]), matrices row-major. oneDNN
// primitives are created once per shape and kept (creating one JIT-compiles its kernel); weights are reordered
// to whatever layout the chosen implementation prefers on every call, since they change every training step.
#include <node_api.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
#include <algorithm>
#include <cmath>

#include <oneapi/dnnl/dnnl.hpp>

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

// ---- Node-API helpers -------------------------------------------------------------------------------------

struct Fail {
  std::string message;
};

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Fail{std::string("node-api: ") + what};
}

float* floatArray(napi_env env, napi_value value, size_t expected, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  if (!isTyped) throw Fail{std::string(name) + " must be a Float32Array"};
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  check(env, napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr), "typedarray_info");
  if (type != napi_float32_array) throw Fail{std::string(name) + " must be a Float32Array"};
  if (length != expected) {
    std::ostringstream out;
    out << name << " has " << length << " elements, expected " << expected;
    throw Fail{out.str()};
  }
  return static_cast<float*>(data);
}

std::vector<int64_t> intArray(napi_env env, napi_value value, size_t expected, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) check(env, napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr), "info");
  if (!isTyped || type != napi_int32_array || length != expected) {
    std::ostringstream out;
    out << name << " must be an Int32Array of " << expected << " elements";
    throw Fail{out.str()};
  }
  const int32_t* ints = static_cast<int32_t*>(data);
  return std::vector<int64_t>(ints, ints + length);
}

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t count) {
  std::vector<napi_value> argv(count);
  size_t argc = count;
  check(env, napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr), "cb_info");
  if (argc != count) throw Fail{"expected " + std::to_string(count) + " arguments"};
  return argv;
}

template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    return body();
  } catch (const Fail& e) {
    napi_throw_error(env, nullptr, e.message.c_str());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// ---- convolutions ------------------------------------------------------------------------------------------

// dims: N, H, W, Ci, Co, kh, kw, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft (dilation as
// tfjs counts it: 1 = dense). The far padding follows from the output size.
constexpr size_t kConvDims = 15;

// oneDNN 2.6 corrupts the heap on strided convolutions whose input has rows or columns that no output reads
// (e.g. a 1x1 stride-2 convolution of an 8x8 input), so such inputs are cropped to what is read: `h`, `w` are
// that cropped size and `fullH`, `fullW` the tensor's.
struct ConvShape {
  int64_t n, fullH, fullW, ci, co, kh, kw, ho, wo, sh, sw, dh, dw, pt, pl;
  int64_t h, w, pb, pr;
  explicit ConvShape(const std::vector<int64_t>& d)
      : n(d[0]), fullH(d[1]), fullW(d[2]), ci(d[3]), co(d[4]), kh(d[5]), kw(d[6]), ho(d[7]), wo(d[8]), sh(d[9]),
        sw(d[10]), dh(d[11]), dw(d[12]), pt(d[13]), pl(d[14]) {
    // The rows the convolution reads end at (ho - 1) * sh + extent - pt; padding covers what lies past the input.
    const int64_t lastRow = (ho - 1) * sh + (kh - 1) * dh + 1 - pt;
    const int64_t lastCol = (wo - 1) * sw + (kw - 1) * dw + 1 - pl;
    if (pt < 0 || pl < 0 || lastRow <= 0 || lastCol <= 0) throw Fail{"conv2d: unsupported padding"};
    h = std::min(fullH, lastRow);
    w = std::min(fullW, lastCol);
    pb = lastRow - h;
    pr = lastCol - w;
  }
  bool cropped() const { return h != fullH || w != fullW; }
  memory::desc src() const { return memory::desc({n, ci, h, w}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, co, ho, wo}, dt::f32, tag::nhwc); }
  memory::dims weightDims() const { return {co, ci, kh, kw}; }
  memory::desc userWeights() const { return memory::desc(weightDims(), dt::f32, tag::hwio); }
  memory::desc anyWeights() const { return memory::desc(weightDims(), dt::f32, tag::any); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilation() const { return {dh - 1, dw - 1}; }
  memory::dims padBefore() const { return {pt, pl}; }
  memory::dims padAfter() const { return {pb, pr}; }
};

enum class ConvKind { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

struct ConvPlan {
  dnnl::primitive primitive;
  memory::desc weights;  // the layout the implementation wants (weights or diff_weights)
  std::string impl;
};

std::unordered_map<std::string, std::shared_ptr<ConvPlan>>& convPlans() {
  static std::unordered_map<std::string, std::shared_ptr<ConvPlan>> plans;
  return plans;
}

std::shared_ptr<ConvPlan> convPlan(ConvKind kind, const std::vector<int64_t>& dims) {
  std::ostringstream key;
  key << static_cast<int>(kind);
  for (auto d : dims) key << ',' << d;
  auto& plans = convPlans();
  auto found = plans.find(key.str());
  if (found != plans.end()) return found->second;

  const ConvShape s(dims);
  auto forwardDesc = dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                     s.src(), s.anyWeights(), s.dst(), s.strides(), s.dilation(),
                                                     s.padBefore(), s.padAfter());
  auto forward = dnnl::convolution_forward::primitive_desc(forwardDesc, cpuEngine());
  auto plan = std::make_shared<ConvPlan>();
  if (kind == ConvKind::Forward) {
    plan->primitive = dnnl::convolution_forward(forward);
    plan->weights = forward.weights_desc();
    plan->impl = forward.impl_info_str();
  } else if (kind == ConvKind::BackwardData) {
    auto desc = dnnl::convolution_backward_data::desc(algorithm::convolution_direct, s.src(), s.anyWeights(),
                                                      s.dst(), s.strides(), s.dilation(), s.padBefore(),
                                                      s.padAfter());
    auto pd = dnnl::convolution_backward_data::primitive_desc(desc, cpuEngine(), forward);
    plan->primitive = dnnl::convolution_backward_data(pd);
    plan->weights = pd.weights_desc();
    plan->impl = pd.impl_info_str();
  } else {
    auto desc = dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, s.src(),
                                                         s.anyWeights(), s.dst(), s.strides(), s.dilation(),
                                                         s.padBefore(), s.padAfter());
    auto pd = dnnl::convolution_backward_weights::primitive_desc(desc, cpuEngine(), forward);
    plan->primitive = dnnl::convolution_backward_weights(pd);
    plan->weights = pd.diff_weights_desc();
    plan->impl = pd.impl_info_str();
  }
  plans.emplace(key.str(), plan);
  return plan;
}

// Copies the top-left h x w of each [fullH, fullW, c] image into a dense [h, w, c] buffer (or back, zeroing the
// rest, when `back` is set).
void cropCopy(const ConvShape& s, float* full, float* crop, bool back) {
  const int64_t row = s.w * s.ci, fullRow = s.fullW * s.ci;
  if (back) std::memset(full, 0, sizeof(float) * static_cast<size_t>(s.n * s.fullH * fullRow));
  for (int64_t b = 0; b < s.n; b++)
    for (int64_t y = 0; y < s.h; y++) {
      float* f = full + (b * s.fullH + y) * fullRow;
      float* c = crop + (b * s.h + y) * row;
      if (back) std::memcpy(f, c, sizeof(float) * static_cast<size_t>(row));
      else std::memcpy(c, f, sizeof(float) * static_cast<size_t>(row));
    }
}

// conv2d(kind, src, weights, dst, dims): kind 0 writes dst (forward), 1 writes src (input gradient from dst =
// dy), 2 writes weights (filter gradient from src = x and dst = dy). Returns the implementation's name.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 5);
    int32_t kindValue = 0;
    check(env, napi_get_value_int32(env, argv[0], &kindValue), "kind");
    if (kindValue < 0 || kindValue > 2) throw Fail{"conv2d: kind must be 0, 1 or 2"};
    const auto kind = static_cast<ConvKind>(kindValue);
    const auto dims = intArray(env, argv[4], kConvDims, "dims");
    const ConvShape s(dims);
    float* src = floatArray(env, argv[1], static_cast<size_t>(s.n * s.fullH * s.fullW * s.ci), "src");
    float* weights = floatArray(env, argv[2], static_cast<size_t>(s.kh * s.kw * s.ci * s.co), "weights");
    float* dst = floatArray(env, argv[3], static_cast<size_t>(s.n * s.ho * s.wo * s.co), "dst");
    auto plan = convPlan(kind, dims);
    auto& engine = cpuEngine();
    auto& stream = cpuStream();
    std::vector<float> crop;
    if (s.cropped()) {
      crop.resize(static_cast<size_t>(s.n * s.h * s.w * s.ci));
      if (kind != ConvKind::BackwardData) cropCopy(s, src, crop.data(), false);
    }
    memory srcMem(s.src(), engine, s.cropped() ? crop.data() : src);
    memory dstMem(s.dst(), engine, dst);
    memory userWeights(s.userWeights(), engine, weights);
    const bool reorderWeights = plan->weights != s.userWeights();
    memory implWeights = reorderWeights ? memory(plan->weights, engine) : userWeights;
    if (kind != ConvKind::BackwardWeights && reorderWeights)
      dnnl::reorder(userWeights, implWeights).execute(stream, userWeights, implWeights);
    if (kind == ConvKind::Forward) {
      plan->primitive.execute(stream, {{DNNL_ARG_SRC, srcMem}, {DNNL_ARG_WEIGHTS, implWeights}, {DNNL_ARG_DST, dstMem}});
    } else if (kind == ConvKind::BackwardData) {
      plan->primitive.execute(stream,
                              {{DNNL_ARG_DIFF_DST, dstMem}, {DNNL_ARG_WEIGHTS, implWeights}, {DNNL_ARG_DIFF_SRC, srcMem}});
    } else {
      plan->primitive.execute(stream,
                              {{DNNL_ARG_SRC, srcMem}, {DNNL_ARG_DIFF_DST, dstMem}, {DNNL_ARG_DIFF_WEIGHTS, implWeights}});
      if (reorderWeights) dnnl::reorder(implWeights, userWeights).execute(stream, implWeights, userWeights);
    }
    stream.wait();
    if (s.cropped() && kind == ConvKind::BackwardData) cropCopy(s, src, crop.data(), true);
    napi_value result;
    check(env, napi_create_string_utf8(env, plan->impl.c_str(), plan->impl.size(), &result), "string");
    return result;
  });
}

// ---- matrix products ---------------------------------------------------------------------------------------

// dims: batchA, batchB, M, K, N, transposeA, transposeB. a is [batchA, M, K] ([batchA, K, M] transposed), b is
// [batchB, K, N] ([batchB, N, K] transposed), c is [max(batchA, batchB), M, N]; a batch of 1 broadcasts.
constexpr size_t kMatMulDims = 7;

std::unordered_map<std::string, std::shared_ptr<dnnl::matmul>>& matMulPlans() {
  static std::unordered_map<std::string, std::shared_ptr<dnnl::matmul>> plans;
  return plans;
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    const auto d = intArray(env, argv[3], kMatMulDims, "dims");
    const int64_t batchA = d[0], batchB = d[1], m = d[2], k = d[3], n = d[4];
    const bool ta = d[5] != 0, tb = d[6] != 0;
    if (batchA != batchB && batchA != 1 && batchB != 1) throw Fail{"matMul: batch sizes do not broadcast"};
    const int64_t batch = std::max(batchA, batchB);
    float* a = floatArray(env, argv[0], static_cast<size_t>(batchA * m * k), "a");
    float* b = floatArray(env, argv[1], static_cast<size_t>(batchB * k * n), "b");
    float* c = floatArray(env, argv[2], static_cast<size_t>(batch * m * n), "c");
    memory::desc aDesc({batchA, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    memory::desc bDesc({batchB, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    memory::desc cDesc({batch, m, n}, dt::f32, memory::dims{m * n, n, 1});
    std::ostringstream key;
    for (auto v : d) key << v << ',';
    auto& plans = matMulPlans();
    auto found = plans.find(key.str());
    std::shared_ptr<dnnl::matmul> plan;
    if (found != plans.end()) {
      plan = found->second;
    } else {
      auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(aDesc, bDesc, cDesc), cpuEngine());
      plan = std::make_shared<dnnl::matmul>(pd);
      plans.emplace(key.str(), plan);
    }
    auto& engine = cpuEngine();
    memory aMem(aDesc, engine, a), bMem(bDesc, engine, b), cMem(cDesc, engine, c);
    plan->execute(cpuStream(), {{DNNL_ARG_SRC, aMem}, {DNNL_ARG_WEIGHTS, bMem}, {DNNL_ARG_DST, cMem}});
    cpuStream().wait();
    return nullptr;
  });
}

// ---- elementwise ---------------------------------------------------------------------------------------------
// Single-threaded loops the compiler vectorizes; they replace tfjs-backend-cpu's per-element JavaScript.

size_t floatLength(napi_env env, napi_value value, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) check(env, napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr), "info");
  if (!isTyped || type != napi_float32_array) throw Fail{std::string(name) + " must be a Float32Array"};
  return length;
}

template <typename Op>
void binaryLoop(const float* a, size_t la, const float* b, size_t lb, float* out, size_t n, Op op) {
  if (la == n && lb == n) {
    for (size_t i = 0; i < n; i++) out[i] = op(a[i], b[i]);
  } else if (la == 1) {
    const float s = a[0];
    for (size_t i = 0; i < n; i++) out[i] = op(s, b[i]);
  } else if (lb == 1) {
    const float s = b[0];
    for (size_t i = 0; i < n; i++) out[i] = op(a[i], s);
  } else if (lb < n) {
    for (size_t start = 0; start < n; start += lb)
      for (size_t j = 0; j < lb; j++) out[start + j] = op(a[start + j], b[j]);
  } else {
    for (size_t start = 0; start < n; start += la)
      for (size_t j = 0; j < la; j++) out[start + j] = op(a[j], b[start + j]);
  }
}

// binary(op, a, b, out): op 0 add, 1 sub, 2 mul, 3 div. Each operand is out-sized or repeats as a block (a
// scalar, or the trailing axes of the output); the caller checks the shapes.
napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    int32_t op = 0;
    check(env, napi_get_value_int32(env, argv[0], &op), "op");
    const size_t la = floatLength(env, argv[1], "a"), lb = floatLength(env, argv[2], "b");
    const size_t n = floatLength(env, argv[3], "out");
    const float* a = floatArray(env, argv[1], la, "a");
    const float* b = floatArray(env, argv[2], lb, "b");
    float* out = floatArray(env, argv[3], n, "out");
    if ((la != n && (la == 0 || n % la != 0)) || (lb != n && (lb == 0 || n % lb != 0)) || (la != n && lb != n))
      throw Fail{"binary: operands must be out-sized or repeat evenly, and one must be out-sized"};
    switch (op) {
      case 0: binaryLoop(a, la, b, lb, out, n, [](float x, float y) { return x + y; }); break;
      case 1: binaryLoop(a, la, b, lb, out, n, [](float x, float y) { return x - y; }); break;
      case 2: binaryLoop(a, la, b, lb, out, n, [](float x, float y) { return x * y; }); break;
      case 3: binaryLoop(a, la, b, lb, out, n, [](float x, float y) { return x / y; }); break;
      default: throw Fail{"binary: unknown op"};
    }
    return nullptr;
  });
}

// unary(op, x, out, alpha): op 0 relu (x < 0 ? 0 : x, NaN kept), 1 step (NaN kept, x > 0 ? 1 : alpha).
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
    if (op == 0) {
      for (size_t i = 0; i < n; i++) out[i] = x[i] < 0.0f ? 0.0f : x[i];
    } else if (op == 1) {
      for (size_t i = 0; i < n; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : a);
    } else {
      throw Fail{"unary: unknown op"};
    }
    return nullptr;
  });
}

// sumRows(x, out, scale): x viewed as [rows, cols] with cols = out.length; out[c] = scale * sum over rows.
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 3);
    const size_t n = floatLength(env, argv[0], "x"), cols = floatLength(env, argv[1], "out");
    if (cols == 0 || n % cols != 0) throw Fail{"sumRows: x does not divide into rows of out.length"};
    double scale = 1;
    check(env, napi_get_value_double(env, argv[2], &scale), "scale");
    const float* x = floatArray(env, argv[0], n, "x");
    float* out = floatArray(env, argv[1], cols, "out");
    std::vector<double> acc(cols, 0.0);
    for (size_t start = 0; start < n; start += cols)
      for (size_t c = 0; c < cols; c++) acc[c] += x[start + c];
    for (size_t c = 0; c < cols; c++) out[c] = static_cast<float>(acc[c] * scale);
    return nullptr;
  });
}

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
      const double factor = scale[ls == 1 ? 0 : k] / std::sqrt(static_cast<double>(variance[lv == 1 ? 0 : k]) + epsilon);
      a[k] = static_cast<float>(factor);
      b[k] = static_cast<float>(offset[lo == 1 ? 0 : k] - mean[lm == 1 ? 0 : k] * factor);
    }
    for (size_t start = 0; start < n; start += c)
      for (size_t k = 0; k < c; k++) out[start + k] = x[start + k] * a[k] + b[k];
    return nullptr;
  });
}

// ---- threads and information --------------------------------------------------------------------------------

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 1);
    int32_t threads = 1;
    check(env, napi_get_value_int32(env, argv[0], &threads), "threads");
    if (threads < 1) throw Fail{"setThreads: at least 1 thread"};
    omp_set_num_threads(threads);
    return nullptr;
  });
}

const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "SSE4.1";
    case dnnl::cpu_isa::avx: return "AVX";
    case dnnl::cpu_isa::avx2: return "AVX2";
    case dnnl::cpu_isa::avx512_core: return "AVX-512";
    case dnnl::cpu_isa::avx512_core_vnni: return "AVX-512 VNNI";
    case dnnl::cpu_isa::avx512_core_bf16: return "AVX-512 BF16";
    case dnnl::cpu_isa::avx512_core_amx: return "AMX";
    default: return "generic";
  }
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&]() -> napi_value {
    const dnnl_version_t* v = dnnl_version();
    std::ostringstream out;
    out << "oneDNN " << v->major << '.' << v->minor << '.' << v->patch << ", " << omp_get_max_threads()
        << " OpenMP thread(s), " << isaName(dnnl::get_effective_cpu_isa());
    const std::string text = out.str();
    napi_value result;
    check(env, napi_create_string_utf8(env, text.c_str(), text.size(), &result), "string");
    return result;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
