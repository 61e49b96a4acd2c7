// netspec's native CPU kernels, called from JavaScript through Node-API on typed arrays that tfjs's cpu backend
// owns: convolutions (forward with bias and activation, backward data, backward weights) and batched matrix
// products on oneDNN; pooling and its gradients, transposes and elementwise loops in C++ with OpenMP.
//
// This file is the module: its method table, the thread count, what it runs on, and glibc's settings. The kernels
// live one family per file (conv2d.cc, matmul.cc, elementwise.cc, pool.cc, transpose.cc), over what support.cc
// and the headers share. Tensors are tfjs's layouts: activations NHWC, filters HWIO ([kh, kw, in, out]), matrices
// row-major. Nothing a call needs only while it runs is allocated per call (see workspace()).
#include "netspec_native.h"

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <sstream>

#include <oneapi/dnnl/dnnl.hpp>

namespace netspec {
namespace {

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
      {"compare", nullptr, Compare, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNormTraining", nullptr, BatchNormTraining, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNormTrainingGrad", nullptr, BatchNormTrainingGrad, nullptr, nullptr, nullptr, napi_default_method,
       nullptr},
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
}  // namespace netspec

NAPI_MODULE(NODE_GYP_MODULE_NAME, netspec::Init)
