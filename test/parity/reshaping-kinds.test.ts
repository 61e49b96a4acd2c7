/**
 * The axes the every-kind fixture leaves out, against PyTorch through the generated module: chunk and slice along
 * channels (the last axis of tfjs's NHWC storage) and along flat features, channel_shuffle with several groups,
 * adaptive pooling with uneven and overlapping bins, and ceil-mode pooling with padding and a stride-3 overhang.
 * Eval-mode forward on cpu; every-kind.test.ts checks the gradients of all these kinds.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { generateTarget } from '../../src/compiler/targets/index.js';
import { buildModel, getStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { exportStateDict } from '../../src/runtime/weights/state-dict-io.js';
import { compileIr } from '../support/compile.js';
import { PYTHON, pythonHas } from '../support/torch.js';
import { relativeError, values } from '../support/values.js';

const SPEC = [
  'netspec: 1',
  'name: reshaping',
  'input: [12, 7, 9]',
  'modules:',
  '  - maps:',
  '      - chunk: {chunks: 5, index: 3}',
  '      - conv: {out: 12, kernel: 1}',
  '      - slice: {start: 2, end: -1}',
  '      - channel_shuffle: 3',
  '      - adaptive_avgpool: {out: [4, 5]}',
  '      - maxpool: {kernel: 2, stride: 3, ceil_mode: true}',
  '      - avgpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}',
  '  - flat:',
  '      - flatten',
  '      - slice: {start: 5, end: -7}',
  '      - chunk: {chunks: 3, index: 1}',
  '',
].join('\n');

describe.skipIf(!pythonHas('reshaping-kinds parity'))(
  'chunk, slice, shuffle and pooling variants equal PyTorch',
  () => {
    it('eval forward on cpu', async () => {
      await selectBackend('cpu');
      const ir = compileIr('reshaping.yaml', { 'reshaping.yaml': SPEC });
      expect(ir.outputShape).toEqual([8]);
      const model = buildModel(ir, { seed: 5 });
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-reshaping-'));
      fs.writeFileSync(path.join(work, 'model.py'), generateTarget(ir, 'pytorch').get('model.py') ?? '');
      const dict = getStateDict(model, ir);
      fs.writeFileSync(
        path.join(work, 'weights.safetensors'),
        encodeSafetensors(exportStateDict(dict, ir, 0)),
      );
      const x = values(3 * 12 * 7 * 9, 9);
      fs.writeFileSync(
        path.join(work, 'input.safetensors'),
        encodeSafetensors(new Map([['input', { dtype: 'F32', shape: [3, 12, 7, 9], data: x }]])),
      );
      const out = execFileSync(
        PYTHON,
        ['test/parity/reference.py', 'generated', path.join(work, 'model.py'), work],
        { encoding: 'utf8' },
      );
      expect(out.trim()).toBe('OK');
      const expected = decodeSafetensors(
        fs.readFileSync(path.join(work, 'expected.safetensors')),
        'expected',
      );
      const want = expected.tensors.get('output')?.data as Float32Array;
      const y = tf.tidy(() => model.predict(tf.tensor(x, [3, 12, 7, 9])) as tf.Tensor);
      const error = relativeError(y.dataSync(), want);
      console.log(`reshaping kinds eval forward on cpu: max relative |difference| ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-5);
      y.dispose();
      model.dispose();
    });
  },
);
