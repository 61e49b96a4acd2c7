/**
 * What a run on the torch engine needs besides the trainer: the generated module, the run's settings, its data
 * (the three splits exactly as the tfjs trainer gets them) and its initial weights, as the files of the run
 * folder's `torch/` folder. Pure: bytes out, nothing written here.
 */
import { serializeIr, type IrNetwork } from '../../compiler/ir.js';
import { generatePyTorch } from '../../compiler/targets/pytorch/index.js';
import type { StateDict } from '../../compiler/targets/tfjs/index.js';
import { hashIr } from '../checkpoint/training-checkpoint.js';
import type { RunData } from '../session/data.js';
import { metricsData } from '../session/record.js';
import type { RunConfig } from '../train/config.js';
import type { RunMetrics } from '../train/metrics.js';
import { Prng } from '../train/prng.js';
import { encodeSafetensors, type TensorInput } from '../weights/safetensors.js';
import { expectedTensors } from '../weights/state-dict-io.js';

/** The folder inside a run folder that holds the torch engine's inputs. */
export const TORCH_FOLDER = 'torch';

/** settings.json of a torch run: everything train.py reads besides the data and the weights. */
export interface TorchSettings {
  readonly format: 'netspec-torch-settings';
  readonly version: 1;
  readonly network: string;
  readonly spec: string;
  /** The hash of the IR in ir.json (copied into every checkpoint, not recomputed in Python). */
  readonly irHash: string;
  readonly config: RunConfig;
  /** metrics.json's `data` block. */
  readonly data: RunMetrics['data'];
  /** The shuffling generator's state before the first epoch (netspec's Prng seeded with the run's seed). */
  readonly epochPrng: readonly number[];
  /** The state-dict tensors a checkpoint holds (PyTorch names; BatchNorm's num_batches_tracked is not one). */
  readonly tensors: readonly string[];
  readonly initFrom: string | null;
  /** The command that continues the run after a stop, for the line that says so. */
  readonly resumeCommand: string;
}

/** What {@link torchRunFiles} needs. */
export interface TorchRunInput {
  readonly ir: IrNetwork;
  readonly spec: string;
  readonly config: RunConfig;
  readonly data: RunData;
  /** The initial weights (netspec's seeded initialization, or --init-from's), so both engines start alike. */
  readonly init: StateDict;
  readonly initFrom: string | null;
  readonly resumeCommand: string;
}

/** The settings of a torch run. */
export function torchSettings(input: Omit<TorchRunInput, 'init'>): TorchSettings {
  const { ir, data } = input;
  return {
    format: 'netspec-torch-settings',
    version: 1,
    network: ir.name,
    spec: input.spec,
    irHash: hashIr(ir),
    config: input.config,
    data: metricsData(data),
    epochPrng: [...Prng.fromSeed(input.config.training.seed).state()],
    tensors: [...expectedTensors(ir).keys()],
    initFrom: input.initFrom,
    resumeCommand: input.resumeCommand,
  };
}

/** The three splits as one safetensors file: `<split>_images` F32 [N, ...input] (NCHW), `<split>_labels` I32 [N]. */
export function dataFile(data: RunData): Uint8Array {
  const tensors = new Map<string, TensorInput>();
  for (const split of ['train', 'dev', 'test'] as const) {
    const s = data[split];
    tensors.set(`${split}_images`, { dtype: 'F32', shape: [s.count, ...data.inputShape], data: s.images });
    tensors.set(`${split}_labels`, { dtype: 'I32', shape: [s.count], data: s.labels });
  }
  return encodeSafetensors(tensors, { format: 'netspec-data' });
}

/** A state dict as a safetensors file (PyTorch names and layouts). */
export function weightsFile(weights: StateDict, network: string): Uint8Array {
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of weights) tensors.set(name, { dtype: 'F32', shape: t.shape, data: t.data });
  return encodeSafetensors(tensors, { format: 'pt', network });
}

/**
 * The files of `torch/`: model.py (the pytorch target's), train.py, ir.json, settings.json, data.safetensors and
 * init.safetensors.
 */
export function torchRunFiles(input: TorchRunInput): Map<string, Uint8Array> {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  // model.py and train.py, as `compile --target pytorch` writes them.
  const code = [...generatePyTorch(input.ir)].map(([name, source]): [string, Uint8Array] => [
    name,
    text(source),
  ]);
  return new Map([
    ...code,
    ['ir.json', text(serializeIr(input.ir))],
    ['settings.json', text(JSON.stringify(torchSettings(input), null, 2) + '\n')],
    ['data.safetensors', dataFile(input.data)],
    ['init.safetensors', weightsFile(input.init, input.ir.name)],
  ]);
}
