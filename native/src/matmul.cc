// Batched matrix products on oneDNN (tfjs's BatchMatMul), row-major, transposes read through strides.
#include "netspec_native.h"
#include "onednn.h"

#include <memory>
#include <sstream>
#include <unordered_map>

namespace netspec {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// Matrix products of fewer multiply-adds run on the calling thread, because waking another thread costs 20-40 us
// on the virtual machines we measured.
constexpr int64_t kSerialWorkMax = 4 * 1024 * 1024;

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

}  // namespace

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

}  // namespace netspec
