// What the addon's source files share: the Node-API argument helpers and error handling, the buffers kept
// between calls, the OpenMP thread helpers, and the functions each kernel file defines for the module's method
// table (netspec_native.cc). One namespace; what a file uses alone stays in that file's anonymous namespace.
//
// Calls never overlap: Node calls the addon from one thread, so the process-wide state below (buffers, plans, kept
// filters) needs no locks.
#pragma once

#include <node_api.h>
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netspec {

// ---- Node-API helpers (support.cc) -------------------------------------------------------------------------

// A call's error, thrown by the helpers and the kernels and turned into a JavaScript Error by guarded().
struct Fail {
  std::string message;
};

void check(napi_env env, napi_status status, const char* what);

// The data of a Float32Array of exactly `expected` elements (else Fail, naming the argument).
float* floatArray(napi_env env, napi_value value, size_t expected, const char* name);

// The length of a Float32Array argument (for kernels taking operands of several lengths).
size_t floatLength(napi_env env, napi_value value, const char* name);

// The values of an Int32Array of exactly `expected` elements.
std::vector<int64_t> intArray(napi_env env, napi_value value, size_t expected, const char* name);

// The call's arguments: at least `count`, at most `most` (missing optional ones are undefined).
std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t count, size_t most = 0);

// False for undefined and null (an optional argument left out).
bool isPresent(napi_env env, napi_value value);

// Throws the exception being handled into JavaScript as an Error: Fail's message, oneDNN's (prefixed "oneDNN: ")
// or another std::exception's what(). Anything else is rethrown. Only to be called from a catch block.
void throwAsJsError(napi_env env);

// Runs a Node-API method's body; an exception becomes a JavaScript Error and the call returns nullptr.
template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    return body();
  } catch (...) {
    throwAsJsError(env);
  }
  return nullptr;
}

// ---- reusable buffers (support.cc) ------------------------------------------------------------------------

// Memory the addon needs only during one call (oneDNN's scratchpad, weights in the implementation's layout, a
// cropped input), kept between calls and grown to the largest request. A fresh buffer on every call costs a page
// fault per 4 KiB on first touch, ~10-20 us each on the virtual machines this runs on: the 9.4 MiB of reordered
// weights of ResNet18's last stage alone were 2,400 faults (~40 ms) per convolution. Calls never overlap (Node
// calls the addon from one thread), so one buffer per purpose serves every primitive.
enum class Slot { Scratchpad = 0, Weights = 1, Crop = 2, Bias = 3, Count = 4 };

void* workspace(Slot slot, size_t bytes);

// ---- threads --------------------------------------------------------------------------------------------------

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

// The least work (elements) worth giving a thread in the C++ loops (elementwise, pooling, transpose). These loops
// are memory-bound: on the 2-core virtual machine we measured, two threads made a multiplication of 2.4M floats
// (SGD's update of a 3x3x512x512 filter) 10% faster, of 1M about as fast as one, and smaller ones slower (waking a
// sleeping thread costs 20-40 us there).
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
inline size_t grainOf(size_t itemSize) { return std::max<size_t>(1, kParallelMin / std::max<size_t>(1, itemSize)); }

// ---- the module's methods, by the file that defines them --------------------------------------------------------

// conv2d.cc
napi_value Conv2d(napi_env env, napi_callback_info info);
napi_value ForgetWeights(napi_env env, napi_callback_info info);
napi_value KeptWeights(napi_env env, napi_callback_info info);
// matmul.cc
napi_value MatMul(napi_env env, napi_callback_info info);
// elementwise.cc
napi_value Binary(napi_env env, napi_callback_info info);
napi_value Compare(napi_env env, napi_callback_info info);
napi_value Unary(napi_env env, napi_callback_info info);
napi_value ScaledAdd(napi_env env, napi_callback_info info);
napi_value SumRows(napi_env env, napi_callback_info info);
// batchnorm.cc
napi_value BatchNorm(napi_env env, napi_callback_info info);
napi_value BatchNormTraining(napi_env env, napi_callback_info info);
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info);
// pool.cc
napi_value Pool(napi_env env, napi_callback_info info);
napi_value MaxPoolGrad(napi_env env, napi_callback_info info);
napi_value AvgPoolGrad(napi_env env, napi_callback_info info);
// transpose.cc
napi_value Transpose(napi_env env, napi_callback_info info);

}  // namespace netspec
