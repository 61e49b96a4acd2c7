// Transposes of 4-byte elements (float32, int32, uint32), moved as bits: size-1 axes are dropped and axes that
// stay adjacent merged, then a (batched) matrix transpose in 32x32 tiles (NCHW <-> NHWC) or row gathers.
#include "netspec_native.h"

#include <cstring>

namespace netspec {
namespace {

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

}  // namespace

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

}  // namespace netspec
