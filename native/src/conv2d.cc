// Convolutions on oneDNN in tfjs's layouts (activations NHWC, filters HWIO): forward with bias and activation,
// backward data, backward weights. Primitives are created once per shape and kept (creating one JIT-compiles its
// kernel); filters are reordered to whatever layout the chosen implementation prefers on every call, since they
// change every training step (run directly on HWIO, oneDNN picks its gemm convolutions, 1.5x slower on
// ResNet18), except the filters kept for repeated forward passes (weightCache()).
#include "netspec_native.h"
#include "onednn.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <unordered_map>

namespace netspec {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

// dims: N, H, W, Ci, Co, kh, kw, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft, groups
// (dilation as tfjs counts it: 1 = dense). The far padding follows from the output size. With groups, the filter
// is [kh, kw, Ci / groups, Co], output channel o in group o / (Co / groups): tfjs's depthwise filter [kh, kw, C,
// multiplier] is that memory with groups = C (one input channel per group).
constexpr size_t kConvDims = 16;

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
  int64_t n, fullH, fullW, ci, co, fullKh, fullKw, ho, wo, sh, sw, dh, dw, g;
  int64_t ky, kx, kh, kw, pt, pl;
  int64_t h, w, pb, pr;
  explicit ConvShape(const std::vector<int64_t>& d)
      : n(d[0]), fullH(d[1]), fullW(d[2]), ci(d[3]), co(d[4]), fullKh(d[5]), fullKw(d[6]), ho(d[7]), wo(d[8]),
        sh(d[9]), sw(d[10]), dh(d[11]), dw(d[12]), g(d[15]) {
    const int64_t padTop = d[13], padLeft = d[14];
    for (size_t i = 0; i < 13; i++)
      if (d[i] <= 0) throw Fail{"conv2d: every size, stride and dilation must be positive"};
    if (g <= 0 || ci % g != 0 || co % g != 0) throw Fail{"conv2d: the groups must divide both channel counts"};
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
  size_t filterSize() const { return static_cast<size_t>(fullKh * fullKw * (ci / g) * co); }
  size_t outputSize() const { return static_cast<size_t>(n * ho * wo * co); }
  memory::desc src() const { return memory::desc({n, ci, h, w}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, co, ho, wo}, dt::f32, tag::nhwc); }
  memory::desc bias() const { return memory::desc({co}, dt::f32, tag::a); }
  // OIHW, or GOIHW for a grouped convolution (oneDNN tells them apart by rank).
  memory::dims weightDims() const {
    if (g == 1) return {co, ci, kh, kw};
    return {g, co / g, ci / g, kh, kw};
  }
  // The live taps inside the caller's HWIO filter: (G)OIHW dims with HWIO strides of the whole filter, starting
  // at weightOffset().
  memory::desc userWeights() const {
    const int64_t row = (ci / g) * co;  // one tap's filter
    if (g == 1) return memory::desc(weightDims(), dt::f32, memory::dims{1, co, fullKw * row, row});
    return memory::desc(weightDims(), dt::f32, memory::dims{co / g, 1, co, fullKw * row, row});
  }
  size_t weightOffset() const { return static_cast<size_t>((ky * fullKw + kx) * (ci / g) * co); }
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

// The primitive attributes of a forward pass: the caller's scratchpad, and the activation as an eltwise post-op.
dnnl::primitive_attr epilogueAttr(Activation activation, float alpha) {
  auto attr = userScratchpad();
  if (activation == Activation::Linear) return attr;
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
  return attr;
}

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

// What tells plans apart: the thread count (oneDNN splits the work for the count a primitive is created with), the
// kind, the epilogue and the dims.
std::string planKey(ConvKind kind, const std::vector<int64_t>& dims, bool bias, Activation activation, float alpha) {
  std::ostringstream key;
  key << omp_get_max_threads() << ',' << static_cast<int>(kind) << ',' << bias << ',' << static_cast<int>(activation)
      << ',' << alpha;
  for (auto d : dims) key << ',' << d;
  return key.str();
}

std::shared_ptr<ConvPlan> convPlan(ConvKind kind, const std::vector<int64_t>& dims, bool bias,
                                   Activation activation, float alpha) {
  const std::string key = planKey(kind, dims, bias, activation, alpha);
  auto& plans = convPlans();
  auto found = plans.find(key);
  if (found != plans.end()) return found->second;

  const ConvShape s(dims);
  auto& engine = cpuEngine();
  auto forwardDesc = dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                     s.src(), s.anyWeights(), s.dst(), s.strides(), s.dilation(),
                                                     s.padBefore(), s.padAfter());
  auto forwardHint = dnnl::convolution_forward::primitive_desc(forwardDesc, engine);
  auto plan = std::make_shared<ConvPlan>();
  if (kind == ConvKind::Forward) {
    auto attr = epilogueAttr(activation, alpha);
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
  plans.emplace(key, plan);
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
  // What else the kept values depend on: null for a reorder (the layout says it all), the plan for a dense
  // convolution's unrolled filter (which depends on the whole geometry: padding, strides, image size).
  const void* maker;
  void* data = nullptr;  // null until the filter is seen a second time
};

std::unordered_map<int64_t, CachedWeights>& weightCache() {
  static std::unordered_map<int64_t, CachedWeights> cache;
  return cache;
}

// The cached filter for `key` in `layout`, made by fill(destination) from the taps `s` selects of the caller's
// filter the first time it is kept; null when it is not (yet) kept, then the caller makes it in the workspace.
template <typename Fill>
void* cachedWeights(int64_t key, const ConvShape& s, const memory::desc& layout, const void* maker, Fill fill) {
  auto& cache = weightCache();
  auto found = cache.find(key);
  if (found == cache.end()) {
    cache.emplace(key, CachedWeights{s.userWeights(), s.weightOffset(), layout, maker, nullptr});
    return nullptr;
  }
  CachedWeights& entry = found->second;
  // The same filter convolved in another way (other taps, layout or geometry): not kept.
  if (entry.from != s.userWeights() || entry.offset != s.weightOffset() || entry.layout != layout ||
      entry.maker != maker)
    return nullptr;
  if (entry.data == nullptr) {
    if (posix_memalign(&entry.data, 64, layout.get_size()) != 0) throw Fail{"out of memory"};
    fill(entry.data);
  }
  return entry.data;
}

// ---- convolutions as one matrix product -------------------------------------------------------------------------
// A convolution whose (cropped) input has no more positions than its filter has live taps does no more
// multiply-adds as one dense matrix product: output [N, Ho*Wo*Co] = input [N, H*W*Ci] x W [H*W*Ci, Ho*Wo*Co], where
// block (input position p, output position q) of W is the filter tap that connects them, or zeros. ResNet18's last
// stages on 32x32 digits are such: the 3x3 convolutions of 2x2 images (4/9 of the convolution's multiply-adds), the
// stride-2 one from 2x2 to 1x1 and those of 1x1 images (the filter's live taps exactly), where oneDNN's direct
// kernels ran at a quarter to a fifth of its matrix product's rate (a 3x3 convolution of a 64x512 1x1 batch: 0.76
// ms against 0.17 ms as a [64, 512] x [512, 512] product).

// The most floats W may have (16 MiB), so that building it stays cheap beside the product.
constexpr int64_t kDenseWeightsMax = 4 << 20;

bool runsDense(const ConvShape& s) {
  const int64_t in = s.h * s.w, out = s.ho * s.wo;
  return s.g == 1 && in <= s.kh * s.kw && in * s.ci * out * s.co <= kDenseWeightsMax;
}

// A convolution as a matrix product: out [m, cols] = in [m, rows] x w [rows, cols] (forward, with the bias and
// activation), in = out x w^T (backward data), w = in^T x out (backward weights), all row-major.
struct ProductPlan {
  dnnl::matmul primitive;
  memory::desc scratchpad;
  int threads = 1;
  int64_t m = 0, rows = 0, cols = 0;
  // Dense convolutions: tapOf[p * outputs + q], the full filter's tap (ky * fullKw + kx) joining input position p
  // and output position q, or -1; inPlace when w is the filter's own memory (one position each side, one tap).
  std::vector<int64_t> tapOf;
  bool inPlace = false;
  std::string impl;
};

std::unordered_map<std::string, std::shared_ptr<ProductPlan>>& productPlans() {
  static std::unordered_map<std::string, std::shared_ptr<ProductPlan>> plans;
  return plans;
}

// Matrix products of fewer multiply-adds than this run on the calling thread (as matmul.cc's).
constexpr int64_t kProductSerialMax = 4 * 1024 * 1024;

// The plan of `kind`'s product for [m, rows] x [rows, cols], made once per key; `name` starts its impl string.
std::shared_ptr<ProductPlan> productPlan(ConvKind kind, const std::string& key, int64_t m, int64_t rows,
                                         int64_t cols, bool bias, Activation activation, float alpha,
                                         const char* name) {
  auto& plans = productPlans();
  auto found = plans.find(key);
  if (found != plans.end()) return found->second;
  auto plan = std::make_shared<ProductPlan>();
  plan->m = m;
  plan->rows = rows;
  plan->cols = cols;
  plan->threads = m * rows * cols < kProductSerialMax ? 1 : omp_get_max_threads();
  ThreadScope scope(plan->threads);
  const auto rowMajor = [](int64_t r, int64_t c) { return memory::desc({r, c}, dt::f32, memory::dims{c, 1}); };
  const auto transposed = [](int64_t r, int64_t c) { return memory::desc({r, c}, dt::f32, memory::dims{1, r}); };
  auto& engine = cpuEngine();
  dnnl::matmul::primitive_desc pd;
  if (kind == ConvKind::Forward) {
    auto desc = bias ? dnnl::matmul::desc(rowMajor(m, rows), rowMajor(rows, cols), rowMajor(1, cols), rowMajor(m, cols))
                     : dnnl::matmul::desc(rowMajor(m, rows), rowMajor(rows, cols), rowMajor(m, cols));
    pd = dnnl::matmul::primitive_desc(desc, epilogueAttr(activation, alpha), engine);
  } else if (kind == ConvKind::BackwardData) {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(rowMajor(m, cols), transposed(cols, rows), rowMajor(m, rows)),
                                      userScratchpad(), engine);
  } else {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(transposed(rows, m), rowMajor(m, cols), rowMajor(rows, cols)),
                                      userScratchpad(), engine);
  }
  plan->primitive = dnnl::matmul(pd);
  plan->scratchpad = pd.scratchpad_desc();
  plan->impl = std::string(name) + " " + pd.impl_info_str();
  plans.emplace(key, plan);
  return plan;
}

// Runs the plan's product (under its thread count): `bias` (cols values, or null) applies to the forward only.
void runProduct(ConvKind kind, const ProductPlan& plan, float* in, float* w, float* out, const float* bias) {
  ThreadScope scope(plan.threads);
  auto& engine = cpuEngine();
  auto& stream = cpuStream();
  const int64_t m = plan.m, rows = plan.rows, cols = plan.cols;
  const auto matrix = [&](int64_t r, int64_t c, float* data) {
    return memory(memory::desc({r, c}, dt::f32, memory::dims{c, 1}), engine, data);
  };
  const auto matrixT = [&](int64_t r, int64_t c, float* data) {
    return memory(memory::desc({r, c}, dt::f32, memory::dims{1, r}), engine, data);
  };
  memory scratchpad(plan.scratchpad, engine, workspace(Slot::Scratchpad, plan.scratchpad.get_size()));
  if (kind == ConvKind::Forward) {
    std::unordered_map<int, memory> argsMap{{DNNL_ARG_SRC, matrix(m, rows, in)},
                                            {DNNL_ARG_WEIGHTS, matrix(rows, cols, w)},
                                            {DNNL_ARG_DST, matrix(m, cols, out)},
                                            {DNNL_ARG_SCRATCHPAD, scratchpad}};
    if (bias != nullptr) argsMap.emplace(DNNL_ARG_BIAS, matrix(1, cols, const_cast<float*>(bias)));
    plan.primitive.execute(stream, argsMap);
  } else if (kind == ConvKind::BackwardData) {
    plan.primitive.execute(stream, {{DNNL_ARG_SRC, matrix(m, cols, out)},
                                    {DNNL_ARG_WEIGHTS, matrixT(cols, rows, w)},
                                    {DNNL_ARG_DST, matrix(m, rows, in)},
                                    {DNNL_ARG_SCRATCHPAD, scratchpad}});
  } else {
    plan.primitive.execute(stream, {{DNNL_ARG_SRC, matrixT(rows, m, in)},
                                    {DNNL_ARG_WEIGHTS, matrix(m, cols, out)},
                                    {DNNL_ARG_DST, matrix(rows, cols, w)},
                                    {DNNL_ARG_SCRATCHPAD, scratchpad}});
  }
  stream.wait();
}

// The dense plan of a convolution that runsDense(): the product [N, H*W*Ci] x [H*W*Ci, Ho*Wo*Co] and the taps.
std::shared_ptr<ProductPlan> densePlan(ConvKind kind, const ConvShape& s, const std::string& key, bool bias,
                                       Activation activation, float alpha) {
  const int64_t in = s.h * s.w, out = s.ho * s.wo;
  auto plan = productPlan(kind, "dense," + key, s.n, in * s.ci, out * s.co, bias, activation, alpha, "dense");
  if (!plan->tapOf.empty()) return plan;
  plan->tapOf.assign(static_cast<size_t>(in * out), -1);
  for (int64_t iy = 0; iy < s.h; iy++)
    for (int64_t ix = 0; ix < s.w; ix++)
      for (int64_t oy = 0; oy < s.ho; oy++)
        for (int64_t ox = 0; ox < s.wo; ox++) {
          // Output (oy, ox) reads input row oy * sh + a * dh - pt with live tap a.
          const int64_t ry = iy - oy * s.sh + s.pt, rx = ix - ox * s.sw + s.pl;
          if (ry < 0 || rx < 0 || ry % s.dh != 0 || rx % s.dw != 0 || ry / s.dh >= s.kh || rx / s.dw >= s.kw) continue;
          plan->tapOf[static_cast<size_t>((iy * s.w + ix) * out + oy * s.wo + ox)] =
              (s.ky + ry / s.dh) * s.fullKw + s.kx + rx / s.dw;
        }
  plan->inPlace = in == 1 && out == 1 && plan->tapOf[0] >= 0;
  return plan;
}

// Writes W (rows x cols, row-major) from the caller's HWIO filter: each input position's rows by one thread.
void buildDense(const ConvShape& s, const ProductPlan& plan, const float* filter, float* w) {
  const int64_t in = s.h * s.w, out = s.ho * s.wo, ci = s.ci, co = s.co, cols = plan.cols;
  const size_t block = static_cast<size_t>(co) * sizeof(float);
  parallelRanges(static_cast<size_t>(in), grainOf(static_cast<size_t>(ci * cols)), [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; p++)
      for (int64_t c = 0; c < ci; c++) {
        float* row = w + (static_cast<int64_t>(p) * ci + c) * cols;
        for (int64_t q = 0; q < out; q++) {
          const int64_t tap = plan.tapOf[p * static_cast<size_t>(out) + static_cast<size_t>(q)];
          if (tap < 0) std::memset(row + q * co, 0, block);
          else std::memcpy(row + q * co, filter + (tap * ci + c) * co, block);
        }
      }
  });
}

// The filter gradient from dW: each tap the sum of its blocks, in the order of the input and output positions
// (each tap by one thread, so the sums do not depend on the thread count); taps joining nothing are 0.
void foldDense(const ConvShape& s, const ProductPlan& plan, const float* dw, float* filter) {
  const int64_t out = s.ho * s.wo, ci = s.ci, co = s.co, cols = plan.cols, taps = s.fullKh * s.fullKw;
  std::memset(filter, 0, sizeof(float) * s.filterSize());
  parallelRanges(static_cast<size_t>(taps), grainOf(static_cast<size_t>(ci * co)), [&](size_t begin, size_t end) {
    for (size_t i = 0; i < plan.tapOf.size(); i++) {
      const int64_t tap = plan.tapOf[i];
      if (tap < static_cast<int64_t>(begin) || tap >= static_cast<int64_t>(end)) continue;
      const int64_t p = static_cast<int64_t>(i) / out, q = static_cast<int64_t>(i) % out;
      for (int64_t c = 0; c < ci; c++) {
        const float* from = dw + (p * ci + c) * cols + q * co;
        float* to = filter + (tap * ci + c) * co;
        for (int64_t o = 0; o < co; o++) to[o] += from[o];
      }
    }
  });
}

// A convolution that runsDense(): the same arguments as conv2d's; returns the implementation's name.
const std::string& denseConv(ConvKind kind, const ConvShape& s, const std::string& key, float* src, float* weights,
                             float* dst, const float* bias, Activation activation, float alpha, int64_t weightsKey) {
  auto plan = densePlan(kind, s, key, bias != nullptr, activation, alpha);
  const int64_t rows = plan->rows, cols = plan->cols;
  float* x = src;
  if (s.cropped()) {
    x = static_cast<float*>(workspace(Slot::Crop, sizeof(float) * static_cast<size_t>(s.n * rows)));
    if (kind != ConvKind::BackwardData) cropCopy(s, src, x, false);
  }
  const memory::desc wDesc({rows, cols}, dt::f32, memory::dims{cols, 1});
  float* w = nullptr;
  if (plan->inPlace) {
    w = weights + plan->tapOf[0] * rows * cols;
    if (kind == ConvKind::BackwardWeights) std::memset(weights, 0, sizeof(float) * s.filterSize());
  } else if (kind == ConvKind::BackwardWeights) {
    w = static_cast<float*>(workspace(Slot::Weights, wDesc.get_size()));
  } else {
    void* kept = kind == ConvKind::Forward && weightsKey > 0
                     ? cachedWeights(weightsKey, s, wDesc, plan.get(), [&](void* to) {
                         buildDense(s, *plan, weights, static_cast<float*>(to));
                       })
                     : nullptr;
    w = static_cast<float*>(kept);
    if (w == nullptr) {
      w = static_cast<float*>(workspace(Slot::Weights, wDesc.get_size()));
      buildDense(s, *plan, weights, w);
    }
  }
  // One bias per column: the channel's, at every output position.
  const float* columnBias = bias;
  if (bias != nullptr && cols != s.co) {
    float* repeated = static_cast<float*>(workspace(Slot::Bias, sizeof(float) * static_cast<size_t>(cols)));
    for (int64_t q = 0; q < cols / s.co; q++) std::memcpy(repeated + q * s.co, bias, sizeof(float) * s.co);
    columnBias = repeated;
  }
  runProduct(kind, *plan, x, w, dst, columnBias);
  if (kind == ConvKind::BackwardWeights && !plan->inPlace) foldDense(s, *plan, w, weights);
  if (s.cropped() && kind == ConvKind::BackwardData) cropCopy(s, src, x, true);
  return plan->impl;
}

// ---- 1x1 convolutions as a matrix product -------------------------------------------------------------------
// A convolution whose live filter is one tap with no padding left (ResNet's 1x1 shortcuts, stride 1 or 2) is a
// matrix product of the positions it reads, [N*Ho*Wo, Ci] x [Ci, Co] with the tap's block of the HWIO filter as it
// is (no reorder): strided ones gather the positions first and scatter their gradient back. oneDNN's strided 1x1
// convolutions ran ResNet18's shortcuts at a tenth of its matrix product's rate (8x8x64 -> 4x4x128 at batch 64:
// 0.55 ms forward for 17 MFLOP).

bool runsPointwise(const ConvShape& s) {
  return s.g == 1 && s.kh == 1 && s.kw == 1 && s.pt == 0 && s.pl == 0 && s.pb == 0 && s.pr == 0;
}

// Copies the positions a pointwise convolution reads (rows oy * sh, columns ox * sw of the full input) into a
// dense [N, Ho, Wo, Ci] buffer, or (back) adds nothing but places them into the zeroed full input gradient.
void gatherPositions(const ConvShape& s, float* full, float* gathered, bool back) {
  const size_t channels = static_cast<size_t>(s.ci) * sizeof(float);
  if (back) std::memset(full, 0, sizeof(float) * s.inputSize());
  for (int64_t b = 0; b < s.n; b++)
    for (int64_t oy = 0; oy < s.ho; oy++)
      for (int64_t ox = 0; ox < s.wo; ox++) {
        float* f = full + ((b * s.fullH + oy * s.sh) * s.fullW + ox * s.sw) * s.ci;
        float* g = gathered + ((b * s.ho + oy) * s.wo + ox) * s.ci;
        if (back) std::memcpy(f, g, channels);
        else std::memcpy(g, f, channels);
      }
}

// A convolution that runsPointwise(): the same arguments as conv2d's; returns the implementation's name.
const std::string& pointwiseConv(ConvKind kind, const ConvShape& s, const std::string& key, float* src,
                                 float* weights, float* dst, const float* bias, Activation activation, float alpha) {
  const int64_t m = s.n * s.ho * s.wo;
  auto plan =
      productPlan(kind, "pointwise," + key, m, s.ci, s.co, bias != nullptr, activation, alpha, "pointwise");
  // Every input position is read when the stride is 1 and nothing is cropped: the input is the matrix itself.
  const bool gathers = s.sh != 1 || s.sw != 1 || s.cropped();
  float* x = src;
  if (gathers) {
    x = static_cast<float*>(workspace(Slot::Crop, sizeof(float) * static_cast<size_t>(m * s.ci)));
    if (kind != ConvKind::BackwardData) gatherPositions(s, src, x, false);
  }
  if (kind == ConvKind::BackwardWeights && s.someTapsDead()) std::memset(weights, 0, sizeof(float) * s.filterSize());
  runProduct(kind, *plan, x, weights + s.weightOffset(), dst, bias);
  if (gathers && kind == ConvKind::BackwardData) gatherPositions(s, src, x, true);
  return plan->impl;
}

}  // namespace

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
    const float slope = activation == Activation::LeakyRelu ? static_cast<float>(alpha) : 0.0f;
    napi_value result;
    if (runsDense(s) || runsPointwise(s)) {
      const std::string key = planKey(kind, dims, bias != nullptr, activation, slope);
      const std::string& impl =
          runsDense(s) ? denseConv(kind, s, key, src, weights, dst, bias, activation, slope, weightsKey)
                       : pointwiseConv(kind, s, key, src, weights, dst, bias, activation, slope);
      check(env, napi_create_string_utf8(env, impl.c_str(), impl.size(), &result), "string");
      return result;
    }
    auto plan = convPlan(kind, dims, bias != nullptr, activation, slope);
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
                     ? cachedWeights(weightsKey, s, plan->weights, nullptr,
                                     [&](void* to) {
                                       memory kept(plan->weights, engine, to);
                                       ThreadScope scope(1);
                                       plan->toImpl.execute(stream, userWeights, kept);
                                     })
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
    check(env, napi_create_string_utf8(env, plan->impl.c_str(), plan->impl.size(), &result), "string");
    return result;
  });
}

}  // namespace netspec
