#!/usr/bin/env bash
# Times the seed ResNet18 (specs/resnet18.yaml) on netspec's webgpu backend and PyTorch beside it, on a machine
# with a GPU, a Vulkan driver and no network: everything netspec needs comes in netspec-gpu-bench.tar.xz next to
# this script (made by scripts/pack-gpu-bench.sh: node, netspec, the pruned node_modules, libvulkan.so.1 and
# libGLdispatch.so.0 for machines without them).
#
# Usage: gpu-bench.sh [OUT_DIR] [-- extra netspec bench options]
#   OUT_DIR (default ./gpu-bench-results) receives bench.json, bench.txt (the table) and machine.txt.
#   Defaults: --batch-size 64 --warmup 3 --repeats 10, PyTorch on cuda when its torch sees a GPU (else cpu, said so).
#   Environment: PYTHON (default: python3 on PATH, then /usr/bin/python3), GPU_BENCH_DIR (where to unpack; default
#   a temporary folder), VK_DRIVER_FILES / VK_ICD_FILENAMES (the Vulkan driver; found in the usual places if unset).
# Example on SwiftShader (no GPU; times are CPU emulation):
#   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json gpu-bench.sh /tmp/r -- --batch-size 2 --repeats 1
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
results=$(pwd)/gpu-bench-results
if [ $# -gt 0 ] && [ "$1" != "--" ]; then results=$1; shift; fi
[ "${1:-}" = "--" ] && shift
mkdir -p "$results"
results=$(cd "$results" && pwd)

archive=$here/netspec-gpu-bench.tar.xz
if [ -f "$archive" ]; then
  if [ -n "${GPU_BENCH_DIR:-}" ]; then
    work=$GPU_BENCH_DIR
    mkdir -p "$work"
  else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
  fi
  tar -xJf "$archive" -C "$work"
  root=$work/netspec-gpu-bench
elif [ -f "$here/node" ] && [ -f "$here/bin/netspec.js" ]; then
  root=$here # run from inside an unpacked archive
else
  echo "gpu-bench: $archive not found (make it with scripts/pack-gpu-bench.sh)" >&2
  exit 1
fi
node=$root/node
chmod +x "$node"

# The Vulkan loader (and glvnd's libGLdispatch, which NVIDIA's Vulkan driver links to): the system's, else the packed.
system_libs=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; })
for dir in "$root"/lib/*/; do
  [ -d "$dir" ] || continue
  for so in "$dir"*.so.*; do
    name=$(basename "$so")
    if ! grep -qF "	$name (" <<<"$system_libs"; then
      export LD_LIBRARY_PATH=${dir%/}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      echo "gpu-bench: no system $name; using the packed one" >&2
    fi
  done
done

# The Vulkan driver: where the loader looks, else where NVIDIA's container runtime mounts the driver's manifest.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] &&
  ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then
      export VK_DRIVER_FILES=$f
      echo "gpu-bench: Vulkan driver manifest $f (VK_DRIVER_FILES)" >&2
      break
    fi
  done
fi

python=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
device=cpu
if "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  device=cuda
else
  echo "gpu-bench: $python has no torch that sees CUDA; PyTorch runs on cpu" >&2
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "host: $(uname -srm), $(nproc) CPU(s)"
  cat "$root/VERSION" 2>/dev/null || true
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' || true
  echo "python: $python, PyTorch device: $device"
  echo "vulkan: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
} | tee "$results/machine.txt" >&2

"$node" "$root/bin/netspec.js" bench "$root/specs/resnet18.yaml" --backend webgpu \
  --python "$python" --torch-device "$device" --batch-size 64 --warmup 3 --repeats 10 "$@" --json \
  >"$results/bench.json"
"$node" --input-type=module -e "
  import fs from 'node:fs';
  const { formatBenchTable } = await import('$root/dist/runtime/bench/report.js');
  process.stdout.write(formatBenchTable(JSON.parse(fs.readFileSync('$results/bench.json', 'utf8'))));
" | tee "$results/bench.txt"
echo "gpu-bench: results in $results (bench.json, bench.txt, machine.txt)" >&2
