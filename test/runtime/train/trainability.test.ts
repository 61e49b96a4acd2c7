/** Networks that cannot be trained are named as such, from the IR alone, and the trainer refuses them before a step. */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/compiler/targets/tfjs/index.js';
import { DEFAULT_TRAIN_CONFIG, train, untrainableReasons } from '../../../src/runtime/train/index.js';
import { LINEAR_SPEC, TINY_SPEC, tinyData, tinyIr, useCpu } from './tiny-network.js';
import { TrainInputError } from '../../../src/runtime/errors.js';

/** A spec on 1x8x8 inputs with the given head layers. */
const headOnly = (name: string, head: string): string =>
  `netspec: 1\nname: ${name}\ninput: [1, 8, 8]\nmodules:\n  - head: ${head}\n`;

const NO_PARAMS = headOnly('no-params', '[relu, flatten]');
const BN_WITHOUT_AFFINE = headOnly('bn-stats', '[{batchnorm: {affine: false}}, flatten]');

beforeAll(useCpu);

describe('untrainableReasons', () => {
  it('is empty for networks with weights and class logits', () => {
    expect(untrainableReasons(tinyIr(TINY_SPEC))).toEqual([]);
    expect(untrainableReasons(tinyIr(LINEAR_SPEC))).toEqual([]);
  });

  it('names a network without any trainable parameter and its layers', () => {
    expect(untrainableReasons(tinyIr(NO_PARAMS))).toEqual([
      "'no-params' has no trainable parameters (its layers: relu, flatten); training needs at least one layer " +
        'with weights (conv, linear, or batchnorm with affine)',
    ]);
  });

  it('counts BN running statistics as buffers, not trainable parameters', () => {
    expect(untrainableReasons(tinyIr(BN_WITHOUT_AFFINE))).toEqual([
      expect.stringContaining("'bn-stats' has no trainable parameters (its layers: batchnorm, flatten)"),
    ]);
  });

  it('names an output that is not class logits, with every other reason', () => {
    const one = tinyIr(headOnly('one-class', '[global_avgpool, flatten]'));
    expect(untrainableReasons(one)).toEqual([
      expect.stringContaining("'one-class' has no trainable parameters"),
      "'one-class' outputs [1]; training needs class logits [N] with N >= 2",
    ]);
    const image = tinyIr(headOnly('image-out', '[{conv: {out: 2, kernel: 3, padding: 1}}]'));
    expect(untrainableReasons(image)).toEqual([
      "'image-out' outputs [2, 8, 8]; training needs class logits [N] with N >= 2",
    ]);
  });
});

describe('train refuses an untrainable network before any step', () => {
  it.each([
    ['no layer with weights', NO_PARAMS],
    ['only BN statistics', BN_WITHOUT_AFFINE],
  ])('%s: TrainInputError, no hook called', async (_, spec) => {
    const ir = tinyIr(spec);
    const calls: string[] = [];
    const run = train({
      model: buildModel(ir, { seed: 0 }),
      ir,
      train: tinyData(32, 1),
      dev: tinyData(16, 2),
      config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 16 },
      hooks: {
        log: (l) => void calls.push(l),
        step: () => void calls.push('step'),
        saveLast: () => void calls.push('saveLast'),
      },
    });
    await expect(run).rejects.toThrow(TrainInputError);
    await expect(run).rejects.toThrow(`'${ir.name}' has no trainable parameters`);
    expect(calls).toEqual([]);
  });
});
