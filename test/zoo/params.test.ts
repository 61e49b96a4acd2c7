/**
 * The zoo's parameter counts (issue 13): each specs/zoo/<name>.yaml that exists compiles, and its trainable
 * parameters and BN buffers are torchvision's, as recorded in test/fixtures/zoo/torchvision (so this runs without
 * torch). A net whose spec is not written yet is skipped, and its test's title says so.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countParams, numel } from '../../src/compiler/ir.js';
import { compileIr } from '../support/compile.js';
import { readFacts, ZOO_NETS, zooSpec } from '../support/zoo.js';

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

describe('zoo specs have torchvision parameter counts', () => {
  const missing = ZOO_NETS.filter((name) => !fs.existsSync(zooSpec(name)));
  if (missing.length > 0)
    console.warn(
      `zoo parameter counts skipped for ${missing.length} nets: no ${missing.map(zooSpec).join(', ')}`,
    );
  for (const name of ZOO_NETS) {
    const spec = zooSpec(name);
    const written = !missing.includes(name);
    it.skipIf(!written)(written ? `${name}: ${spec}` : `${name}: skipped, ${spec} is not written yet`, () => {
      const facts = readFacts(name);
      const { trainable, buffers } = countParams(compileIr(spec));
      expect({ trainable, buffers }).toEqual({ trainable: facts.trainableParams, buffers: facts.buffers });
    });
  }
});
