// The oneDNN objects that the files running oneDNN primitives (conv2d.cc, matmul.cc) share; the other kernel
// files do without oneDNN's headers.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace netspec {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// The scratchpad is the caller's (the shared workspace), so executing a primitive never allocates.
dnnl::primitive_attr userScratchpad();

}  // namespace netspec
