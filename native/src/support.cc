// What every kernel file uses (netspec_native.h): Node-API argument checks, turning exceptions into JavaScript
// errors, the buffers kept between calls, and the oneDNN engine and stream (onednn.h).
#include "netspec_native.h"
#include "onednn.h"

#include <cstdlib>
#include <sstream>

namespace netspec {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// ---- Node-API helpers -------------------------------------------------------------------------------------

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Fail{std::string("node-api: ") + what};
}

// A Float32Array's data and length (else Fail, naming the argument).
static float* floatData(napi_env env, napi_value value, size_t* length, const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), "is_typedarray");
  napi_typedarray_type type;
  void* data = nullptr;
  if (isTyped) check(env, napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr), "info");
  if (!isTyped || type != napi_float32_array) throw Fail{std::string(name) + " must be a Float32Array"};
  return static_cast<float*>(data);
}

float* floatArray(napi_env env, napi_value value, size_t expected, const char* name) {
  size_t length = 0;
  float* data = floatData(env, value, &length, name);
  if (length != expected) {
    std::ostringstream out;
    out << name << " has " << length << " elements, expected " << expected;
    throw Fail{out.str()};
  }
  return data;
}

size_t floatLength(napi_env env, napi_value value, const char* name) {
  size_t length = 0;
  floatData(env, value, &length, name);
  return length;
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

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t count, size_t most) {
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

bool isPresent(napi_env env, napi_value value) {
  napi_valuetype type;
  check(env, napi_typeof(env, value, &type), "typeof");
  return type != napi_undefined && type != napi_null;
}

void throwAsJsError(napi_env env) {
  try {
    throw;
  } catch (const Fail& e) {
    napi_throw_error(env, nullptr, e.message.c_str());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
}

// ---- reusable buffers ---------------------------------------------------------------------------------------

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

}  // namespace netspec
