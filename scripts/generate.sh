#!/usr/bin/env bash
# Regenerates generated/ from the canonical specs with the built CLI: generated/<network>/{tfjs,pytorch}/, and the
# layers.js runtime twins (src/compiler/targets/tfjs/export/runtime/).
# test/generated.test.ts fails when generated/ drifts from what `netspec compile` produces.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
for spec in specs/*.yaml; do
  for target in tfjs pytorch; do
    name=$(basename "$spec" .yaml)
    node bin/netspec.js compile "$spec" --target "$target" -o "generated/$name/$target" --force
  done
done
# The JavaScript twins of the tfjs runtime that `netspec export --format tfjs-layers` ships in layers.js.
npx tsx scripts/layers-runtime.ts
# The layer reference, from the layer definitions.
npx tsx -e "import('./src/compiler/ops/reference.ts').then((m) => process.stdout.write(m.layerReference()))" > docs/layers.md
# The table of training settings in docs/language.md, from src/training-settings.ts.
npx tsx scripts/training-reference.ts
# The editor JSON Schema of YAML specs (schema/netspec.schema.json), from the layer definitions and training settings.
npx tsx scripts/editor-schema.ts
