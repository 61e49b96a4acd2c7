#!/usr/bin/env bash
# Packs what scripts/gpu-bench.sh needs to run `netspec bench --backend webgpu` (and PyTorch beside it) on a
# machine with no network and no Node: this machine's node binary, netspec built into a fresh dist/, the seed specs
# and templates, the node_modules files a traced bench run opened (tfjs's Node bundles, tfjs-backend-webgpu,
# Dawn's dawn.node for linux-x64, ...) and the Vulkan loader libvulkan.so.1 (with glvnd's libGLdispatch.so.0) for
# machines that lack them.
#
# Usage: scripts/pack-gpu-bench.sh [OUT]   (default OUT: .tmp/gpu-bench, gitignored)
# Writes OUT/gpu-bench.sh (the entry point) and OUT/netspec-gpu-bench.tar.xz; fails if they exceed 60 MiB. OUT must
# be new, empty or an earlier pack (it holds the marker .netspec-gpu-bench); anything else is refused.
# Needs: npx tsc, strace, xz, and a WebGPU adapter for the traced run (SwiftShader: Debian's chromium + libvulkan1;
# VK_ICD_FILENAMES is pointed at it when unset). Linux x86-64 only: dawn.node and node are this machine's.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/.tmp/gpu-bench}
limit_mib=60
swiftshader_icd=/usr/lib/chromium/vk_swiftshader_icd.json

for tool in strace xz; do
  command -v "$tool" >/dev/null || { echo "pack-gpu-bench: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "pack-gpu-bench: packs for Linux x86-64 only" >&2; exit 1; }

# The write policy of netspec (README, "What netspec guarantees"): OUT is replaced only when it is an earlier pack,
# recognised by its marker; anything else already there (another folder, a link, a file) is refused untouched.
marker=.netspec-gpu-bench
if [ -L "$out" ] || { [ -e "$out" ] && [ ! -d "$out" ]; }; then
  echo "pack-gpu-bench: $out exists and is not a folder; choose another OUT" >&2
  exit 1
fi
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/$marker" ]; then
  echo "pack-gpu-bench: $out holds files this script did not write; choose another OUT" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
printf 'netspec gpu-bench pack\n' >"$out/$marker"
stage=$out/stage/netspec-gpu-bench
mkdir -p "$stage"

echo "pack-gpu-bench: building netspec into $stage/dist" >&2
(cd "$repo" && npx tsc -p tsconfig.build.json --outDir "$stage/dist" --declaration false --sourceMap false)

# What the package ships besides dist/ (package.json "files"), less the native addon's sources: bench reads the
# seed specs, the templates and torch-bench.py from the package's own tree.
cp "$repo/package.json" "$stage/"
mkdir -p "$stage/bin" "$stage/src/runtime/bench" "$stage/src/compiler" "$stage/src/reports"
cp "$repo/bin/netspec.js" "$stage/bin/"
cp -r "$repo/specs" "$repo/maps" "$stage/"
cp -r "$repo/src/compiler/targets" "$stage/src/compiler/"
cp -r "$repo/src/reports/templates" "$stage/src/reports/"
cp "$repo/src/runtime/bench/torch-bench.py" "$stage/src/runtime/bench/"

# The node_modules files a real run opens: a traced bench of the seed ResNet18 on webgpu (batch 2, one step; the
# same code path as on a GPU, whatever the network), with the repository's node_modules linked in.
ln -s "$repo/node_modules" "$stage/node_modules"
trace=$out/stage/trace.txt
icd=${VK_ICD_FILENAMES:-}
if [ -z "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$swiftshader_icd" ]; then icd=$swiftshader_icd; fi
echo "pack-gpu-bench: tracing one bench run on webgpu${icd:+ (VK_ICD_FILENAMES=$icd)}" >&2
VK_ICD_FILENAMES=$icd strace -f -qq -e trace=open,openat -o "$trace" \
  node "$stage/bin/netspec.js" bench "$stage/specs/resnet18.yaml" --backend webgpu --batch-size 2 \
  --warmup 0 --repeats 1 --no-pytorch --json >"$out/stage/trace-bench.json"
rm "$stage/node_modules"

modules=$(cd "$repo/node_modules" && pwd -P)
files=$out/stage/files.txt
# Every path under node_modules that an open() named and that is a regular file (calls split across threads by
# strace still name their path; failed probes name files that do not exist).
sed -nE "s|.*open(at)?\(.*\"$modules/([^\"]+)\".*|\2|p" "$trace" | sort -u |
  while IFS= read -r f; do [ -f "$modules/$f" ] && printf '%s\n' "$f"; done >"$files"
packages=$(sed -nE 's#^((@[^/]+/)?[^/@]+)/.*#\1#p' "$files" | sort -u)
for p in $packages; do
  (cd "$modules" && ls -d "$p"/package.json "$p"/LICENSE* "$p"/license* "$p"/README* 2>/dev/null || true)
done >>"$files"
# Never rely on the trace alone for Dawn itself.
printf '%s\n' webgpu/index.js webgpu/package.json webgpu/dist/linux-x64/dawn.node >>"$files"
sort -u "$files" -o "$files"
grep -q '^webgpu/dist/linux-x64/dawn.node$' "$files"
grep -q '^@tensorflow/tfjs-backend-webgpu/' "$files" ||
  { echo "pack-gpu-bench: the traced run did not load tfjs-backend-webgpu (no adapter?)" >&2; exit 1; }
(cd "$modules" && tar -cf - -T "$files") | (mkdir -p "$stage/node_modules" && cd "$stage/node_modules" && tar -xf -)

cp "$(command -v node)" "$stage/node"
# The Vulkan loader, and glvnd's dispatch library that NVIDIA's Vulkan driver (libGLX_nvidia.so.0) links to, for
# machines without them: each in its own folder, which gpu-bench.sh puts on LD_LIBRARY_PATH only where the system
# lacks that library.
for lib in libvulkan.so.1 libGLdispatch.so.0; do
  file=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } |
    sed -nE "s|^\s+${lib//./\\.} \(libc6,x86-64\) => (.*)|\1|p" | head -1)
  if [ -n "$file" ]; then
    mkdir -p "$stage/lib/${lib%%.so*}"
    cp -L "$file" "$stage/lib/${lib%%.so*}/$lib"
  else
    echo "pack-gpu-bench: $lib not found here; the pack goes without it" >&2
  fi
done
cp "$repo/scripts/gpu-bench.sh" "$stage/"
{
  echo "netspec $(cd "$repo" && git rev-parse --short HEAD)$(cd "$repo" && git diff --quiet HEAD -- src bin || echo '+changes')"
  echo "node $(node --version), packed $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -srm)"
  echo "node_modules: $(wc -l <"$files") files from $(echo "$packages" | wc -w) packages"
} >"$stage/VERSION"

echo "pack-gpu-bench: compressing ($(du -sm "$stage" | cut -f1) MiB unpacked)" >&2
tar -C "$out/stage" -cf - netspec-gpu-bench | xz -T1 -9 >"$out/netspec-gpu-bench.tar.xz"
cp "$repo/scripts/gpu-bench.sh" "$out/gpu-bench.sh"
rm -rf "$out/stage"

size=$(du -cb "$out/gpu-bench.sh" "$out/netspec-gpu-bench.tar.xz" | tail -1 | cut -f1)
mib=$(( (size + 1048575) / 1048576 ))
echo "pack-gpu-bench: $out: gpu-bench.sh + netspec-gpu-bench.tar.xz, $size bytes (${mib} MiB of at most $limit_mib)" >&2
[ "$size" -le $((limit_mib * 1048576)) ] || { echo "pack-gpu-bench: over $limit_mib MiB" >&2; exit 1; }
