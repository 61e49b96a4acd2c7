// netspec's native CPU kernels, called from JavaScript through Node-API on typed arrays that tfjs's cpu backend
// owns: convolutions (forward with bias and activation, backward data, backward weights) and batched matrix
// products on oneDNN; pooling and its gradients, transposes and elementwise loops in C++ with OpenMP.
//
// Tensors are tfjs's layouts: activations NHWC, filters HWIO ([kh, kw, in, out]), matrices row-major. oneDNN
// primitives are created once per shape and kept (creating one JIT-compiles its kernel); weights are reordered
// to whatever layout the chosen implementation prefers on every call, since they change every training step
// (run directly on HWIO, oneDNN picks its gemm convolutions, 1.5x slower on ResNet18). Nothing a call needs only
// while it runs is allocated per call (see workspace()).
#include <node_api.h>
#include <malloc.h>
#include <omp.h>

#include <cstdint>
#include <cstdlib>
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

// The call's arguments: at least `count`, at most `most` (missing optional ones are undefined).
std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t count, size_t most = 0) {
  if (most < count) most = count;
  std::vector<napi_value> argv(most);
  size_t argc = most;
  check(env, napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr), "cb_info");
  if (argc < count || argc > most) {
    throw Fail{"expected " + std::to_string(count) + (most > count ? " to " + std::to_string(most) : "") +
               " arguments"};
  }
  return argv;
}

// False for undefined and null (an optional argument left out).
bool isPresent(napi_env env, napi_value value) {
  napi_valuetype type;
  check(env, napi_typeof(env, value, &type), "typeof");
  return type != napi_undefined && type != napi_null;
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

// ---- reusable buffers ---------------------------------------------------------------------------------------

// Memory the addon needs only during one call (oneDNN's scratchpad, weights in the implementation's layout, a
// cropped input), kept between calls and grown to the largest request. A fresh buffer on every call costs a page
// fault per 4 KiB on first touch, ~10-20 us each on the virtual machines this runs on: the 9.4 MiB of reordered
// weights of ResNet18's last stage alone were 2,400 faults (~40 ms) per convolution. Calls never overlap (Node
// calls the addon from one thread), so one buffer per purpose serves every primitive.
enum class Slot { Scratchpad = 0, Weights = 1, Crop = 2, Count = 3 };

void* workspace(Slot slot, size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t bytes = 0;
  };
  static Buffer buffers[static_cast<int>(Slot::Count)];
  Buffer& b = buffers[static_cast<int>(slot)];
  if (bytes > b.bytes) {
    std::free(b.data);
    b.data = nullptr;
    b.bytes = 0;
    // Rounded up so that slightly larger requests later do not reallocate.
    const size_t rounded = (bytes + (1 << 20) - 1) & ~static_cast<size_t>((1 << 20) - 1);
    if (posix_memalign(&b.data, 64, rounded) != 0) throw Fail{"out of memory"};
    b.bytes = rounded;
  }
  return b.data;
}

// ---- threads ------------------------------------------------------------------------------------------------

// Matrix products of fewer multiply-adds run on the calling thread, because waking another thread costs 20-40 us
// on the virtual machines we measured.
constexpr int64_t kSerialWorkMax = 4 * 1024 * 1024;

// Sets the calling thread's OpenMP team size for a scope. oneDNN sizes its work split from it when a primitive
// is created and expects the same when it runs, so a plan is created and run under the same scope.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadScope() { omp_set_num_threads(saved_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

// ---- convolutions ------------------------------------------------------------------------------------------

// dims: N, H, W, Ci, Co, kh, kw, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft (dilation as
// tfjs counts it: 1 = dense). The far padding follows from the output size.
constexpr size_t kConvDims = 15;

// The taps of a filter axis that read the input for at least one output: [first, first + count). The others
// read only padding, which contributes nothing, so they are left out of the convolution (e.g. a 3x3 convolution
// of a 1x1 image with padding 1 is a 1x1 convolution with the centre tap: 9x less work for ResNet18's last
// stage on 32x32 inputs). Taps read rows tap * dilation - pad + o * stride for outputs o in [0, out).
struct LiveTaps {
  int64_t first, count;
};

LiveTaps liveTaps(int64_t taps, int64_t in, int64_t out, int64_t stride, int64_t dilation, int64_t pad) {
  auto reads = [&](int64_t tap) {
    const int64_t row = tap * dilation - pad;                          // read by output 0
    const int64_t o = row >= 0 ? 0 : (-row + stride - 1) / stride;  // the first output reading a row >= 0
    return o < out && row + o * stride < in;
  };
  int64_t first = 0, last = taps - 1;
  while (first < taps && !reads(first)) first++;
  while (last > first && !reads(last)) last--;
  // A filter that reads nothing but padding, or whose leading dead taps cover more than the padding (possible
  // with dilation), is kept whole.
  if (first == taps || first * dilation > pad) return {0, taps};
  return {first, last - first + 1};
}

// The convolution oneDNN runs: the filter reduced to its live taps, and the input cropped to the rows and
// columns that are read. oneDNN 2.6 corrupts the heap on strided convolutions whose input has rows or columns
// that no output reads (e.g. a 1x1 stride-2 convolution of an 8x8 input), hence the crop: `h`, `w` are the
// cropped size and `fullH`, `fullW` the tensor's; `kh`, `kw` are the live taps from `ky`, `kx` of the tensor's
// `fullKh` x `fullKw` filter, and `pt`, `pl` the padding that is left.
struct ConvShape {
  int64_t n, fullH, fullW, ci, co, fullKh, fullKw, ho, wo, sh, sw, dh, dw;
  int64_t ky, kx, kh, kw, pt, pl;
  int64_t h, w, pb, pr;
  explicit ConvShape(const std::vector<int64_t>& d)
      : n(d[0]), fullH(d[1]), fullW(d[2]), ci(d[3]), co(d[4]), fullKh(d[5]), fullKw(d[6]), ho(d[7]), wo(d[8]),
        sh(d[9]), sw(d[10]), dh(d[11]), dw(d[12]) {
    const int64_t padTop = d[13], padLeft = d[14];
    for (size_t i = 0; i < 13; i++)
      if (d[i] <= 0) throw Fail{"conv2d: every size, stride and dilation must be positive"};
    if (padTop < 0 || padLeft < 0) throw Fail{"conv2d: unsupported padding"};
    const LiveTaps rows = liveTaps(fullKh, fullH, ho, sh, dh, padTop);
    const LiveTaps cols = liveTaps(fullKw, fullW, wo, sw, dw, padLeft);
    ky = rows.first;
    kh = rows.count;
    pt = padTop - ky * dh;
    kx = cols.first;
    kw = cols.count;
    pl = padLeft - kx * dw;
    // The rows the convolution reads end at (ho - 1) * sh + extent - pt; padding covers what lies past the input.
    const int64_t lastRow = (ho - 1) * sh + (kh - 1) * dh + 1 - pt;
    const int64_t lastCol = (wo - 1) * sw + (kw - 1) * dw + 1 - pl;
    if (lastRow <= 0 || lastCol <= 0) throw Fail{"conv2d: unsupported padding"};
    h = std::min(fullH, lastRow);
    w = std::min(fullW, lastCol);
    pb = lastRow - h;
    pr = lastCol - w;
  }
  bool cropped() const { return h != fullH || w != fullW; }
  bool someTapsDead() const { return kh != fullKh || kw != fullKw; }
  size_t inputSize() const { return static_cast<size_t>(n * fullH * fullW * ci); }
  size_t filterSize() const { return static_cast<size_t>(fullKh * fullKw * ci * co); }
  size_t outputSize() const { return static_cast<size_t>(n * ho * wo * co); }
  memory::desc src() const { return memory::desc({n, ci, h, w}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, co, ho, wo}, dt::f32, tag::nhwc); }
  memory::desc bias() const { return memory::desc({co}, dt::f32, tag::a); }
  memory::dims weightDims() const { return {co, ci, kh, kw}; }
  // The live taps inside the caller's HWIO filter: OIHW dims with HWIO strides of the whole filter, starting
  // at weightOffset().
  memory::desc userWeights() const {
    return memory::desc(weightDims(), dt::f32, memory::dims{1, co, fullKw * ci * co, ci * co});
  }
  size_t weightOffset() const { return static_cast<size_t>((ky * fullKw + kx) * ci * co); }
  memory::desc anyWeights() const { return memory::desc(weightDims(), dt::f32, tag::any); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilation() const { return {dh - 1, dw - 1}; }
  memory::dims padBefore() const { return {pt, pl}; }
  memory::dims padAfter() const { return {pb, pr}; }
};

enum class ConvKind { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

// What a forward convolution applies to its output before storing it: tfjs's FusedConv2D bias and activation,
// run by oneDNN as a bias argument and an eltwise post-op, in the same pass over the output.
enum class Activation { Linear = 0, Relu = 1, Relu6 = 2, LeakyRelu = 3, Elu = 4, Sigmoid = 5 };

struct ConvPlan {
  dnnl::primitive primitive;
  memory::desc weights;  // the layout the implementation wants (weights or diff_weights)
  memory::desc scratchpad;
  bool reorder = false;
  // HWIO <-> the implementation's layout, when they differ. Reorders run on the calling thread: they are
  // memory-bound, and a ResNet18 step's 60 took 9.5 ms so, 11.5 ms with two threads from 256K elements up and
  // 19 ms with two threads for all.
  dnnl::reorder toImpl, toUser;
  std::string impl;
};

std::unordered_map<std::string, std::shared_ptr<ConvPlan>>& convPlans() {
  static std::unordered_map<std::string, std::shared_ptr<ConvPlan>> plans;
  return plans;
}

// The scratchpad is the caller's (the shared workspace), so executing a primitive never allocates.
dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::shared_ptr<ConvPlan> convPlan(ConvKind kind, const std::vector<int64_t>& dims, bool bias,
                                   Activation activation, float alpha) {
  std::ostringstream key;
  // oneDNN splits the work for the thread count a primitive is created with, so that is part of the key.
  key << omp_get_max_threads() << ',' << static_cast<int>(kind) << ',' << bias << ',' << static_cast<int>(activation)
      << ',' << alpha;
  for (auto d : dims) key << ',' << d;
  auto& plans = convPlans();
  auto found = plans.find(key.str());
  if (found != plans.end()) return found->second;

  const ConvShape s(dims);
  auto& engine = cpuEngine();
  auto forwardDesc = dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                     s.src(), s.anyWeights(), s.dst(), s.strides(), s.dilation(),
                                                     s.padBefore(), s.padAfter());
  auto forwardHint = dnnl::convolution_forward::primitive_desc(forwardDesc, engine);
  auto plan = std::make_shared<ConvPlan>();
  if (kind == ConvKind::Forward) {
    auto attr = userScratchpad();
    if (activation != Activation::Linear) {
      dnnl::post_ops ops;
      switch (activation) {
        case Activation::Relu: ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f); break;
        case Activation::Relu6: ops.append_eltwise(1.0f, algorithm::eltwise_clip, 0.0f, 6.0f); break;
        case Activation::LeakyRelu: ops.append_eltwise(1.0f, algorithm::eltwise_relu, alpha, 0.0f); break;
        case Activation::Elu: ops.append_eltwise(1.0f, algorithm::eltwise_elu, 1.0f, 0.0f); break;
        case Activation::Sigmoid: ops.append_eltwise(1.0f, algorithm::eltwise_logistic, 0.0f, 0.0f); break;
        default: throw Fail{"conv2d: unknown activation"};
      }
      attr.set_post_ops(ops);
    }
    auto desc = bias ? dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                       s.src(), s.anyWeights(), s.bias(), s.dst(), s.strides(),
                                                       s.dilation(), s.padBefore(), s.padAfter())
                     : forwardDesc;
    auto pd = dnnl::convolution_forward::primitive_desc(desc, attr, engine);
    plan->primitive = dnnl::convolution_forward(pd);
    plan->weights = pd.weights_desc();
    plan->scratchpad = pd.scratchpad_desc();
    plan->impl = pd.impl_info_str();
  } else if (kind == ConvKind::BackwardData) {
    auto desc = dnnl::convolution_backward_data::desc(algorithm::convolution_direct, s.src(), s.anyWeights(),
                                                      s.dst(), s.strides(), s.dilation(), s.padBefore(),
                                                      s.padAfter());
    auto pd = dnnl::convolution_backward_data::primitive_desc(desc, userScratchpad(), engine, forwardHint);
    plan->primitive = dnnl::convolution_backward_data(pd);
    plan->weights = pd.weights_desc();
    plan->scratchpad = pd.scratchpad_desc();
    plan->impl = pd.impl_info_str();
  } else {
    auto desc = dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, s.src(),
                                                         s.anyWeights(), s.dst(), s.strides(), s.dilation(),
                                                         s.padBefore(), s.padAfter());
    auto pd = dnnl::convolution_backward_weights::primitive_desc(desc, userScratchpad(), engine, forwardHint);
    plan->primitive = dnnl::convolution_backward_weights(pd);
    plan->weights = pd.diff_weights_desc();
    plan->scratchpad = pd.scratchpad_desc();
    plan->impl = pd.impl_info_str();
  }
  plan->reorder = plan->weights != s.userWeights();
  if (plan->reorder) {
    ThreadScope scope(1);
    if (kind == ConvKind::BackwardWeights)
      plan->toUser = dnnl::reorder(dnnl::reorder::primitive_desc(engine, plan->weights, engine, s.userWeights()));
    else
      plan->toImpl = dnnl::reorder(dnnl::reorder::primitive_desc(engine, s.userWeights(), engine, plan->weights));
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

// Filters already in a forward implementation's layout, by the caller's key for the filter tensor (tfjs never
// changes a tensor's values, and the caller drops the key when the tensor goes). A filter is kept from its second
// forward convolution on, so that inference passes skip the reorder (4.4 ms of a 30 ms ResNet18 forward), while
// training, which convolves each step's new filter once forward, keeps nothing.
struct CachedWeights {
  memory::desc from;  // the taps taken from the caller's filter (ConvShape::userWeights) ...
  size_t offset;      // ... starting at this element
  memory::desc layout;
  void* data = nullptr;  // null until the filter is seen a second time
};

std::unordered_map<int64_t, CachedWeights>& weightCache() {
  static std::unordered_map<int64_t, CachedWeights> cache;
  return cache;
}

// The cached filter for `key` in the plan's layout, reordered from `user` (taps `s` selects) the first time it is
// kept; null when it is not (yet) kept, then the caller reorders into the workspace.
void* cachedWeights(int64_t key, const ConvShape& s, ConvPlan& plan, memory& user) {
  auto& cache = weightCache();
  auto found = cache.find(key);
  if (found == cache.end()) {
    cache.emplace(key, CachedWeights{s.userWeights(), s.weightOffset(), plan.weights, nullptr});
    return nullptr;
  }
  CachedWeights& entry = found->second;
  // The same filter convolved in another way (other taps or layout): not kept.
  if (entry.from != s.userWeights() || entry.offset != s.weightOffset() || entry.layout != plan.weights)
    return nullptr;
  const memory::desc& layout = plan.weights;
  if (entry.data == nullptr) {
    if (posix_memalign(&entry.data, 64, layout.get_size()) != 0) throw Fail{"out of memory"};
    memory kept(layout, cpuEngine(), entry.data);
    ThreadScope scope(1);
    plan.toImpl.execute(cpuStream(), user, kept);
  }
  return entry.data;
}

// keptWeights(): how many filters weightCache() holds in a forward layout (to check that they are dropped).
napi_value KeptWeights(napi_env env, napi_callback_info) {
  return guarded(env, [&]() -> napi_value {
    uint32_t count = 0;
    for (const auto& entry : weightCache())
      if (entry.second.data != nullptr) count++;
    napi_value result;
    check(env, napi_create_uint32(env, count, &result), "uint32");
    return result;
  });
}

// forgetWeights(key): drops what conv2d keeps for the filter `key`.
napi_value ForgetWeights(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 1);
    int64_t key = 0;
    check(env, napi_get_value_int64(env, argv[0], &key), "key");
    auto& cache = weightCache();
    auto found = cache.find(key);
    if (found != cache.end()) {
      std::free(found->second.data);
      cache.erase(found);
    }
    return nullptr;
  });
}

// conv2d(kind, src, weights, dst, dims[, bias, activation, alpha, weightsKey]): kind 0 writes dst (forward), 1
// writes src (input gradient from dst = dy), 2 writes weights (filter gradient from src = x and dst = dy). The
// forward adds `bias` (Float32Array of Co values, or null) and applies `activation` (0 linear, 1 relu, 2 relu6, 3
// leaky relu with slope `alpha`, 4 elu, 5 sigmoid) in oneDNN; a positive `weightsKey` names the filter tensor for
// weightCache(). Returns the implementation's name.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 5, 9);
    int32_t kindValue = 0;
    check(env, napi_get_value_int32(env, argv[0], &kindValue), "kind");
    if (kindValue < 0 || kindValue > 2) throw Fail{"conv2d: kind must be 0, 1 or 2"};
    const auto kind = static_cast<ConvKind>(kindValue);
    const auto dims = intArray(env, argv[4], kConvDims, "dims");
    const ConvShape s(dims);
    float* src = floatArray(env, argv[1], s.inputSize(), "src");
    float* weights = floatArray(env, argv[2], s.filterSize(), "weights");
    float* dst = floatArray(env, argv[3], s.outputSize(), "dst");
    float* bias = isPresent(env, argv[5]) ? floatArray(env, argv[5], static_cast<size_t>(s.co), "bias") : nullptr;
    int32_t activationValue = 0;
    if (isPresent(env, argv[6])) check(env, napi_get_value_int32(env, argv[6], &activationValue), "activation");
    double alpha = 0;
    if (isPresent(env, argv[7])) check(env, napi_get_value_double(env, argv[7], &alpha), "alpha");
    int64_t weightsKey = 0;
    if (isPresent(env, argv[8])) check(env, napi_get_value_int64(env, argv[8], &weightsKey), "weightsKey");
    if (activationValue < 0 || activationValue > 5) throw Fail{"conv2d: unknown activation"};
    const auto activation = static_cast<Activation>(activationValue);
    if (kind != ConvKind::Forward && (bias != nullptr || activation != Activation::Linear))
      throw Fail{"conv2d: bias and activation apply to the forward convolution only"};
    auto plan = convPlan(kind, dims, bias != nullptr, activation,
                         activation == Activation::LeakyRelu ? static_cast<float>(alpha) : 0.0f);
    auto& engine = cpuEngine();
    auto& stream = cpuStream();
    float* crop = nullptr;
    if (s.cropped()) {
      crop = static_cast<float*>(workspace(Slot::Crop, sizeof(float) * static_cast<size_t>(s.n * s.h * s.w * s.ci)));
      if (kind != ConvKind::BackwardData) cropCopy(s, src, crop, false);
    }
    memory srcMem(s.src(), engine, s.cropped() ? crop : src);
    memory dstMem(s.dst(), engine, dst);
    // The filter gradient of taps that read only padding is 0; the primitive writes the others.
    if (kind == ConvKind::BackwardWeights && s.someTapsDead()) std::memset(weights, 0, sizeof(float) * s.filterSize());
    memory userWeights(s.userWeights(), engine, weights + s.weightOffset());
    void* kept = kind == ConvKind::Forward && plan->reorder && weightsKey > 0
                     ? cachedWeights(weightsKey, s, *plan, userWeights)
                     : nullptr;
    memory implWeights = !plan->reorder ? userWeights
                         : kept != nullptr
                             ? memory(plan->weights, engine, kept)
                             : memory(plan->weights, engine, workspace(Slot::Weights, plan->weights.get_size()));
    memory scratchpad(plan->scratchpad, engine, workspace(Slot::Scratchpad, plan->scratchpad.get_size()));
    if (kind != ConvKind::BackwardWeights && plan->reorder && kept == nullptr) {
      ThreadScope scope(1);
      plan->toImpl.execute(stream, userWeights, implWeights);
    }
    if (kind == ConvKind::Forward) {
      std::unordered_map<int, memory> argsMap{{DNNL_ARG_SRC, srcMem},
                                              {DNNL_ARG_WEIGHTS, implWeights},
                                              {DNNL_ARG_DST, dstMem},
                                              {DNNL_ARG_SCRATCHPAD, scratchpad}};
      if (bias != nullptr) argsMap.emplace(DNNL_ARG_BIAS, memory(s.bias(), engine, bias));
      plan->primitive.execute(stream, argsMap);
    } else if (kind == ConvKind::BackwardData) {
      plan->primitive.execute(stream, {{DNNL_ARG_DIFF_DST, dstMem},
                                       {DNNL_ARG_WEIGHTS, implWeights},
                                       {DNNL_ARG_DIFF_SRC, srcMem},
                                       {DNNL_ARG_SCRATCHPAD, scratchpad}});
    } else {
      plan->primitive.execute(stream, {{DNNL_ARG_SRC, srcMem},
                                       {DNNL_ARG_DIFF_DST, dstMem},
                                       {DNNL_ARG_DIFF_WEIGHTS, implWeights},
                                       {DNNL_ARG_SCRATCHPAD, scratchpad}});
      if (plan->reorder) {
        ThreadScope scope(1);
        plan->toUser.execute(stream, implWeights, userWeights);
      }
    }
    stream.wait();
    if (s.cropped() && kind == ConvKind::BackwardData) cropCopy(s, src, crop, true);
    napi_value result;
    check(env, napi_create_string_utf8(env, plan->impl.c_str(), plan->impl.size(), &result), "string");
    return result;
  });
}

// ---- matrix products ---------------------------------------------------------------------------------------

// dims: batchA, batchB, M, K, N, transposeA, transposeB. a is [batchA, M, K] ([batchA, K, M] transposed), b is
// [batchB, K, N] ([batchB, N, K] transposed), c is [max(batchA, batchB), M, N]; a batch of 1 broadcasts.
constexpr size_t kMatMulDims = 7;

struct MatMulPlan {
  dnnl::matmul primitive;
  memory::desc scratchpad;
};

std::unordered_map<std::string, std::shared_ptr<MatMulPlan>>& matMulPlans() {
  static std::unordered_map<std::string, std::shared_ptr<MatMulPlan>> plans;
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
    // The classifier's gradients (64x512x10) take ~10 us on one thread.
    const int threads = batch * m * n * k < kSerialWorkMax ? 1 : omp_get_max_threads();
    ThreadScope scope(threads);
    std::ostringstream key;
    for (auto v : d) key << v << ',';
    key << threads;
    auto& plans = matMulPlans();
    auto found = plans.find(key.str());
    std::shared_ptr<MatMulPlan> plan;
    if (found != plans.end()) {
      plan = found->second;
    } else {
      auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(aDesc, bDesc, cDesc), userScratchpad(), cpuEngine());
      plan = std::make_shared<MatMulPlan>(MatMulPlan{dnnl::matmul(pd), pd.scratchpad_desc()});
      plans.emplace(key.str(), plan);
    }
    auto& engine = cpuEngine();
    memory aMem(aDesc, engine, a), bMem(bDesc, engine, b), cMem(cDesc, engine, c);
    memory scratchpad(plan->scratchpad, engine, workspace(Slot::Scratchpad, plan->scratchpad.get_size()));
    plan->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, aMem},
                                          {DNNL_ARG_WEIGHTS, bMem},
                                          {DNNL_ARG_DST, cMem},
                                          {DNNL_ARG_SCRATCHPAD, scratchpad}});
    cpuStream().wait();
    return nullptr;
  });
}

// ---- elementwise ---------------------------------------------------------------------------------------------
// Loops the compiler vectorizes; they replace tfjs-backend-cpu's per-element JavaScript. Large ones are split into
// one contiguous range per OpenMP thread; every element (and every column sum) is computed by the same operations
// in the same order as on one thread, so results do not depend on the number of threads.

// The least work (elements) worth giving a thread. These loops are memory-bound: on the 2-core virtual machine we
// measured, two threads made a multiplication of 2.4M floats (SGD's update of a 3x3x512x512 filter) 10% faster,
// of 1M about as fast as one, and smaller ones slower (waking a sleeping thread costs 20-40 us there).
constexpr size_t kParallelMin = 256 * 1024;

// Runs f(begin, end) over [0, n) split into contiguous ranges, one per thread, each at least `grain` long.
template <typename F>
void parallelRanges(size_t n, size_t grain, F&& f) {
  const size_t threads = static_cast<size_t>(omp_get_max_threads());
  const size_t parts = std::min(threads, grain == 0 ? n : n / grain);
  if (parts <= 1) {
    f(static_cast<size_t>(0), n);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(parts))
  {
    const size_t id = static_cast<size_t>(omp_get_thread_num()), count = static_cast<size_t>(omp_get_num_threads());
    f(n * id / count, n * (id + 1) / count);
  }
}

// How many of `n` items of `itemSize` elements each a thread should take at least.
size_t grainOf(size_t itemSize) { return std::max<size_t>(1, kParallelMin / std::max<size_t>(1, itemSize)); }

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

// binary(op, a, b, out): op 0 add, 1 sub, 2 mul, 3 div. Each operand is out-sized or repeats as a block (a
// scalar, or the trailing axes of the output); the caller checks the shapes. out may be a or b.
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

// unary(op, x, out, alpha), out may be x: op 0 relu (x < 0 ? 0 : x, NaN kept), 1 step (NaN kept, x > 0 ? 1 :
// alpha), 2 square, 3 negate, 4 1/sqrt(x) (in float64 and rounded, as tfjs-backend-cpu computes it).
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
      default: throw Fail{"unary: unknown op"};
    }
    return nullptr;
  });
}

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
    parallelRanges(n / c, grainOf(c), [&](size_t begin, size_t end) {
      for (size_t row = begin; row < end; row++) {
        const size_t start = row * c;
        for (size_t k = 0; k < c; k++) out[start + k] = x[start + k] * pa[k] + pb[k];
      }
    });
    return nullptr;
  });
}

// ---- pooling -------------------------------------------------------------------------------------------------
// NHWC, no dilation, tfjs's semantics: padding is never part of a window (a max ignores it, an average divides by
// the in-bounds count), the first row-major maximum of a window gets the gradient, and the average's gradient is
// divided by the whole window size (as tfjs-backend-cpu's AvgPoolGrad does, padding or not).

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

// ---- transpose -----------------------------------------------------------------------------------------------

// Elements of 4 bytes (float32, int32, uint32), moved as bits.
uint32_t* wordArray(napi_env env, napi_value value, size_t* length, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  napi_typedarray_type type;
  void* data = nullptr;
  if (isTyped) check(env, napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr), "info");
  if (!isTyped || (type != napi_float32_array && type != napi_int32_array && type != napi_uint32_array))
    throw Fail{std::string(name) + " must be a Float32Array, Int32Array or Uint32Array"};
  return static_cast<uint32_t*>(data);
}

// [rows, cols] -> [cols, rows] in 32 x 32 tiles, so that both sides are read and written a cache line at a time.
void transpose2d(const uint32_t* in, uint32_t* out, int64_t rows, int64_t cols, int64_t tileFrom, int64_t tileTo) {
  constexpr int64_t kTile = 32;
  const int64_t tilesAcross = (cols + kTile - 1) / kTile;
  for (int64_t t = tileFrom; t < tileTo; t++) {
    const int64_t r0 = (t / tilesAcross) * kTile, c0 = (t % tilesAcross) * kTile;
    const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
    for (int64_t c = c0; c < c1; c++)
      for (int64_t r = r0; r < r1; r++) out[c * rows + r] = in[r * cols + c];
  }
}

// transpose(x, out, shape, perm): out = x with its axes permuted (out axis i is x axis perm[i]); 4-byte elements.
napi_value Transpose(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    size_t n = 0, outLength = 0, rank = 0;
    const uint32_t* x = wordArray(env, argv[0], &n, "x");
    uint32_t* out = wordArray(env, argv[1], &outLength, "out");
    {
      bool isTyped = false;
      check(env, napi_is_typedarray(env, argv[2], &isTyped), "is_typedarray");
      napi_typedarray_type type;
      void* data = nullptr;
      if (isTyped) check(env, napi_get_typedarray_info(env, argv[2], &type, &rank, &data, nullptr, nullptr), "info");
    }
    const auto shape = intArray(env, argv[2], rank, "shape");
    const auto perm = intArray(env, argv[3], rank, "perm");
    size_t size = 1;
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < rank; i++) {
      if (shape[i] < 0 || perm[i] < 0 || static_cast<size_t>(perm[i]) >= rank || seen[perm[i]])
        throw Fail{"transpose: perm must be a permutation of the axes"};
      seen[perm[i]] = true;
      size *= static_cast<size_t>(shape[i]);
    }
    if (n != size || outLength != size) throw Fail{"transpose: x and out must hold the shape's elements"};
    if (size == 0) return nullptr;

    // Axes of size 1 do not move anything, and input axes that stay adjacent and in order move as one.
    std::vector<int64_t> kept(rank, -1), dims;
    for (size_t i = 0; i < rank; i++)
      if (shape[i] != 1) {
        kept[i] = static_cast<int64_t>(dims.size());
        dims.push_back(shape[i]);
      }
    std::vector<int64_t> order;  // output axes as kept input axes
    for (size_t i = 0; i < rank; i++)
      if (kept[perm[i]] >= 0) order.push_back(kept[perm[i]]);
    std::vector<std::vector<int64_t>> groups;  // runs of consecutive input axes, in output order
    for (auto axis : order) {
      if (!groups.empty() && groups.back().back() + 1 == axis) groups.back().push_back(axis);
      else groups.push_back({axis});
    }
    std::vector<size_t> byInput(groups.size());
    for (size_t g = 0; g < groups.size(); g++) byInput[g] = g;
    std::sort(byInput.begin(), byInput.end(), [&](size_t p, size_t q) { return groups[p][0] < groups[q][0]; });
    const size_t r = groups.size();
    std::vector<int64_t> inDims(r), inStrides(r), outDims(r), strideOfOut(r);
    std::vector<size_t> inPos(r);
    for (size_t i = 0; i < r; i++) {
      int64_t d = 1;
      for (auto axis : groups[byInput[i]]) d *= dims[axis];
      inDims[i] = d;
      inPos[byInput[i]] = i;
    }
    for (size_t i = r; i-- > 0;) inStrides[i] = i + 1 < r ? inStrides[i + 1] * inDims[i + 1] : 1;
    for (size_t g = 0; g < r; g++) {
      outDims[g] = inDims[inPos[g]];
      strideOfOut[g] = inStrides[inPos[g]];
    }

    if (r <= 1) {
      parallelRanges(size, kParallelMin, [&](size_t begin, size_t end) {
        std::memcpy(out + begin, x + begin, sizeof(uint32_t) * (end - begin));
      });
    } else if (r == 2 || (r == 3 && inPos[0] == 0)) {
      // A (batched) matrix transpose, e.g. NCHW <-> NHWC: [B, R, C] -> [B, C, R].
      const int64_t batch = r == 3 ? inDims[0] : 1;
      const int64_t rows = inDims[r - 2], cols = inDims[r - 1];
      const int64_t tiles = ((rows + 31) / 32) * ((cols + 31) / 32);
      parallelRanges(static_cast<size_t>(batch * tiles), grainOf(32 * 32), [&](size_t begin, size_t end) {
        for (size_t t = begin; t < end;) {
          const int64_t b = static_cast<int64_t>(t) / tiles, first = static_cast<int64_t>(t) % tiles;
          const int64_t last = std::min<int64_t>(tiles, first + static_cast<int64_t>(end - t));
          transpose2d(x + b * rows * cols, out + b * rows * cols, rows, cols, first, last);
          t += static_cast<size_t>(last - first);
        }
      });
    } else {
      // General: each output row (the last output axis) gathers from x with that axis' input stride.
      const int64_t inner = outDims[r - 1], innerStride = strideOfOut[r - 1];
      const size_t rowsOut = size / static_cast<size_t>(inner);
      parallelRanges(rowsOut, grainOf(static_cast<size_t>(inner)), [&](size_t begin, size_t end) {
        for (size_t row = begin; row < end; row++) {
          int64_t rest = static_cast<int64_t>(row), from = 0;
          for (size_t g = r - 1; g-- > 0;) {
            from += (rest % outDims[g]) * strideOfOut[g];
            rest /= outDims[g];
          }
          uint32_t* o = out + row * static_cast<size_t>(inner);
          for (int64_t i = 0; i < inner; i++) o[i] = x[from + i * innerStride];
        }
      });
    }
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

// Node (V8's array buffers) and oneDNN allocate through glibc's malloc, which by default maps blocks above 128
// KiB-32 MiB (its threshold adapts) with mmap and unmaps them on free, and trims the heap top past 128 KiB: every
// training step then faulted its tensors' pages in afresh, at ~10-20 us per 4 KiB page on the virtual machines we
// measured (ResNet18, batch 64: 20,000 faults and 130-150 ms of system time in a 250-600 ms step). Serving blocks
// below 32 MiB from the heap and never trimming it keeps freed pages mapped for the next step: with the same
// settings given as GLIBC_TUNABLES, steps held at 250-270 ms. Process-wide on purpose (it is what V8 allocates
// through); the cost is that memory freed by training stays with the process.
void keepFreedMemoryMapped() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);
  mallopt(M_TOP_PAD, 256 * 1024 * 1024);
}

napi_value Init(napi_env env, napi_value exports) {
  // NETSPEC_NATIVE_MALLOC=default leaves glibc's settings alone (to measure what they cost).
  const char* mode = std::getenv("NETSPEC_NATIVE_MALLOC");
  if (mode == nullptr || std::string(mode) != "default") keepFreedMemoryMapped();
  const napi_property_descriptor methods[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"forgetWeights", nullptr, ForgetWeights, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"keptWeights", nullptr, KeptWeights, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"scaledAdd", nullptr, ScaledAdd, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"pool", nullptr, Pool, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"avgPoolGrad", nullptr, AvgPoolGrad, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
