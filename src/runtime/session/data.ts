/** The data of a run: loaded as the run's config names it, and checked against the network it trains. */
import type { IrNetwork } from '../../compiler/ir.js';
import { loadDataset } from '../data/index.js';
import { DataError, TrainInputError } from '../errors.js';
import type { RunConfig } from '../train/config.js';
import { checkSplit, type LabeledImages } from '../train/trainer.js';

/** A run's three splits and what they are. */
export interface RunData {
  readonly source: string;
  readonly description: string;
  readonly classes: number;
  /** The classes' names in index order, where the data names them (folder:DIR, cifar10:DIR). */
  readonly classNames?: readonly string[];
  readonly inputShape: readonly number[];
  readonly train: LabeledImages;
  readonly dev: LabeledImages;
  readonly test: LabeledImages;
}

/** The run's input size for the data loader: torchvision's Resize(size) makes the shorter side `size`. */
function resizeTarget(ir: IrNetwork): number {
  const [, h, w] = ir.inputShape;
  if (ir.inputShape.length !== 3 || h === undefined || w === undefined)
    throw new TrainInputError(
      `'${ir.name}' takes input [${ir.inputShape.join(', ')}]; training runs need image input [C, H, W]`,
    );
  return Math.min(h, w);
}

/**
 * Loads the data `config` names, checked against the network: class logits [N >= 2] out, image input [C, H, W]
 * in with the data's channel count, every label a class of the network.
 */
export async function loadRunData(ir: IrNetwork, config: RunConfig): Promise<RunData> {
  const numClasses = ir.outputShape.length === 1 ? (ir.outputShape[0] ?? 0) : 0;
  if (numClasses < 2)
    throw new TrainInputError(
      `'${ir.name}' outputs [${ir.outputShape.join(', ')}]; training needs class logits [N] with N >= 2`,
    );
  const dataset = await loadDataset(config.data.source, {
    train: config.data.train,
    dev: config.data.dev,
    test: config.data.test,
    seed: config.training.seed,
    size: resizeTarget(ir),
    classes: numClasses,
    // Colour sources (folder:, cifar10:) are converted to the network's channels (grey by ITU-R 601 luma).
    ...(ir.inputShape[0] === 1 || ir.inputShape[0] === 3 ? { channels: ir.inputShape[0] } : {}),
  });
  if (dataset.inputShape.join(',') !== ir.inputShape.join(','))
    throw new DataError(
      `'${ir.name}' takes input [${ir.inputShape.join(', ')}], but ${config.data.source} gives [${dataset.inputShape.join(', ')}]` +
        (dataset.inputShape[0] !== ir.inputShape[0]
          ? ` (set the spec's input channels to ${dataset.inputShape[0]})`
          : ''),
    );
  for (const name of ['train', 'dev', 'test'] as const) {
    const problems = checkSplit(dataset[name], ir, name);
    if (problems.length) throw new DataError(`${config.data.source}: ${problems.join('; ')}`);
  }
  return dataset;
}
