/**
 * stochastic_depth's training path, which the every-kind parity test runs only with p = 0 (so its SGD step stays
 * deterministic): on tfjs and in the generated PyTorch module, each sample is either zeroed or scaled by 1/(1-p) as
 * a whole, about a fraction p of them zeroed, independently per call; eval mode and p = 0 are the identity. The
 * fraction is checked within 5 standard deviations of p (a false failure about once in 1.7 million runs).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { generateTarget } from '../../src/compiler/targets/index.js';
import { buildModel } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { compileIr } from '../support/compile.js';
import { PYTHON, pythonHas } from '../support/torch.js';

const P = 0.3;
const SAMPLES = 4000;
const TOLERANCE = 5 * Math.sqrt((P * (1 - P)) / SAMPLES);

const network = (p: number) =>
  compileIr('sd.yaml', {
    'sd.yaml': [
      'netspec: 1',
      'name: sd',
      'input: [3, 2, 2]',
      `modules: [{m: [stochastic_depth: ${p}]}]`,
      '',
    ].join('\n'),
  });

/** Per sample of `y` (values of ones passed through the layer): 0 when dropped, the survivors' scale otherwise. */
function rowValues(y: Float32Array, perSample: number): number[] {
  const rows: number[] = [];
  for (let n = 0; n < y.length / perSample; n++) {
    const row = y.subarray(n * perSample, (n + 1) * perSample);
    expect(
      row.every((v) => v === row[0]),
      `sample ${n} is dropped or kept as a whole`,
    ).toBe(true);
    rows.push(row[0] ?? NaN);
  }
  return rows;
}

function expectRowMode(rows: readonly number[]): void {
  const dropped = rows.filter((v) => v === 0).length / rows.length;
  for (const v of rows) if (v !== 0) expect(v).toBeCloseTo(1 / (1 - P), 6);
  expect(Math.abs(dropped - P)).toBeLessThan(TOLERANCE);
}

describe('stochastic_depth in training on tfjs', () => {
  it('drops whole samples with probability p, scales the survivors by 1/(1-p), a new draw per call', async () => {
    await selectBackend('cpu');
    const model = buildModel(network(P), { seed: 1 });
    const x = tf.ones([SAMPLES, 3, 2, 2]);
    const run = (training: boolean) => (model.apply(x, { training }) as tf.Tensor).dataSync() as Float32Array;
    const first = rowValues(run(true), 12);
    const second = rowValues(run(true), 12);
    expectRowMode(first);
    expectRowMode(second);
    expect(first).not.toEqual(second);
    expect(run(false).every((v) => v === 1)).toBe(true);
    // The gradient flows through the survivors with their scale and not through the dropped samples.
    const grad = tf.grad((input: tf.Tensor) => tf.sum(model.apply(input, { training: true }) as tf.Tensor))(
      x,
    );
    expectRowMode(rowValues(grad.dataSync() as Float32Array, 12));
    const identity = buildModel(network(0), { seed: 1 });
    expect((identity.apply(x, { training: true }) as tf.Tensor).dataSync().every((v) => v === 1)).toBe(true);
    tf.dispose([x, grad]);
    model.dispose();
    identity.dispose();
  });
});

describe.skipIf(!pythonHas('stochastic_depth in the generated PyTorch'))(
  'stochastic_depth in the generated PyTorch module (no torchvision import)',
  () => {
    it("is torchvision's StochasticDepth(p, 'row'): the same statistics, and the identity in eval", () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-stochastic-depth-'));
      const model = generateTarget(network(P), 'pytorch').get('model.py') ?? '';
      expect(model).not.toMatch(/^\s*(import|from) torchvision/m);
      fs.writeFileSync(path.join(work, 'model.py'), model);
      const script = [
        'import sys, importlib.util, json, torch',
        'spec = importlib.util.spec_from_file_location("model", sys.argv[1])',
        'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
        'net = m.build_model()',
        `x = torch.ones(${SAMPLES}, 3, 2, 2)`,
        'net.train(); a = net(x); b = net(x)',
        'net.eval(); e = net(x)',
        'rows = lambda y: y.reshape(y.shape[0], -1)',
        'whole = lambda y: bool((rows(y) == rows(y)[:, :1]).all())',
        'print(json.dumps({"a": rows(a)[:, 0].tolist(), "b": rows(b)[:, 0].tolist(), "whole": whole(a) and whole(b),',
        '  "eval": bool(torch.equal(e, x)), "repr": repr(net.m[0])}))',
      ].join('\n');
      const out = JSON.parse(
        execFileSync(PYTHON, ['-c', script, path.join(work, 'model.py')], { encoding: 'utf8' }),
      ) as { a: number[]; b: number[]; whole: boolean; eval: boolean; repr: string };
      expect(out.whole).toBe(true);
      expectRowMode(out.a);
      expectRowMode(out.b);
      expect(out.a).not.toEqual(out.b);
      expect(out.eval).toBe(true);
      // torchvision's repr, so printed modules read the same.
      expect(out.repr).toBe('StochasticDepth(p=0.3, mode=row)');
    });
  },
);
