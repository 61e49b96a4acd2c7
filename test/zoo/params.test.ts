/**
 * The zoo against torchvision's recorded facts (issue 13; test/fixtures/zoo/torchvision, so this runs without
 * torch): each specs/zoo/<name>.net or .yaml that exists compiles, has torchvision's trainable parameters and BN
 * buffers, and its layer paths are torchvision's state-dict names renamed by maps/zoo/<name>.yaml (where there is
 * one), tensor for tensor with the same shapes. A net whose spec is not written yet is skipped, and its test's
 * title says so.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countParams, numel, serializeIr } from '../../src/compiler/ir.js';
import {
  expectedTensors,
  parseWeightMap,
  renameTensor,
  type WeightMap,
} from '../../src/runtime/weights/state-dict-io.js';
import { compileIr } from '../support/compile.js';
import { readFacts, ZOO_NETS, zooMap, zooSpec, zooSpecCandidates, type ZooNet } from '../support/zoo.js';

describe('the recorded torchvision facts', () => {
  for (const name of ZOO_NETS)
    it(`${name}: its state dict holds exactly its parameters, buffers and BN counters`, () => {
      const facts = readFacts(name);
      const floats = facts.stateDict.filter(([, , dtype]) => dtype === 'float32');
      const counters = facts.stateDict.filter(([key]) => key.endsWith('.num_batches_tracked'));
      expect(floats.reduce((sum, [, shape]) => sum + numel(shape), 0)).toBe(
        facts.trainableParams + facts.buffers,
      );
      expect(counters).toHaveLength(facts.numBatchesTracked);
      expect(floats.length + counters.length).toBe(facts.stateDictTensors);
    });
});

function weightMap(name: ZooNet): WeightMap {
  const file = zooMap(name);
  if (!file) return { rules: [], ignore: [] };
  const map = parseWeightMap(fs.readFileSync(file, 'utf8'), file);
  expect(map.diagnostics).toEqual([]);
  return map;
}

/**
 * The importer's rule (importStateDict): shapes equal once axes of size 1 are left out load as they are
 * (torchvision's [1, 1, 768] class token into a [1, 768] parameter, a Linear's [out, in] into a 1x1 convolution).
 */
function loadsInto(theirs: readonly number[], ours: readonly number[]): boolean {
  return theirs.filter((d) => d !== 1).join() === ours.filter((d) => d !== 1).join();
}

/** What differs between torchvision's renamed state dict and the spec's tensors, one line each (none: equal). */
function stateDictDifferences(name: ZooNet, spec: string): string[] {
  const map = weightMap(name);
  const want = expectedTensors(compileIr(spec));
  const found = new Set<string>();
  const out: string[] = [];
  for (const [original, shape, dtype] of readFacts(name).stateDict) {
    if (dtype !== 'float32' || map.ignore.some((r) => r.test(original))) continue;
    const renamed = renameTensor(original, map.rules);
    const as = renamed === original ? `'${original}'` : `'${original}' (renamed to '${renamed}')`;
    const ours = want.get(renamed);
    if (!ours) out.push(`${as} [${shape.join(', ')}] is not in ${spec}`);
    else if (!loadsInto(shape, ours)) out.push(`${as}: torchvision [${shape}], ${spec} [${ours}]`);
    found.add(renamed);
  }
  for (const [path, shape] of want)
    if (!found.has(path))
      out.push(`'${path}' [${shape.join(', ')}] of ${spec} is not in torchvision's state dict`);
  if (out.length > 0 && !zooMap(name))
    out.unshift(`no maps/zoo/${name}.yaml: torchvision's names are used as they are`);
  return out;
}

describe('zoo specs match torchvision', () => {
  const missing = ZOO_NETS.filter((name) => !zooSpec(name));
  if (missing.length > 0)
    console.warn(`zoo spec checks skipped for ${missing.length} nets, no spec yet: ${missing.join(', ')}`);
  for (const name of ZOO_NETS) {
    const spec = zooSpec(name);
    const title = spec ?? `skipped, neither ${zooSpecCandidates(name).join(' nor ')} is written yet`;
    it.skipIf(!spec)(`${name}: parameter counts (${title})`, () => {
      const facts = readFacts(name);
      const { trainable, buffers } = countParams(compileIr(spec ?? ''));
      expect({ trainable, buffers }).toEqual({ trainable: facts.trainableParams, buffers: facts.buffers });
    });
    it.skipIf(!spec)(`${name}: state-dict names and shapes (${title})`, () => {
      expect(stateDictDifferences(name, spec ?? '')).toEqual([]);
    });
  }
});

describe('zoo specs written in both forms', () => {
  const twins = ZOO_NETS.filter((name) => zooSpecCandidates(name).every((file) => fs.existsSync(file)));
  it('include mobilenet_v2 (its YAML form is what issue 13 benches)', () =>
    expect(twins).toContain('mobilenet_v2'));
  it.each(twins)('%s: the .net and the .yaml give byte-identical IR', (name) => {
    const [net, yaml] = zooSpecCandidates(name);
    expect(serializeIr(compileIr(yaml ?? ''))).toBe(serializeIr(compileIr(net ?? '')));
  });
});
