/**
 * The torchvision zoo (issue 13) for tests: the 16 nets, their recorded facts (test/fixtures/zoo/torchvision, read
 * without torch), and test/zoo/reference.py, the torchvision side, run into a temporary folder.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { decodeSafetensors, type DecodedSafetensors } from '../../src/runtime/weights/safetensors.js';
import { PYTHON, pythonHas } from './torch.js';

/** The zoo's nets, by torchvision constructor name, in issue 13's order. */
export const ZOO_NETS = [
  'alexnet',
  'vgg11_bn',
  'resnext50_32x4d',
  'wide_resnet50_2',
  'mobilenet_v2',
  'mnasnet0_5',
  'densenet121',
  'inception_v3',
  'googlenet',
  'squeezenet1_0',
  'shufflenet_v2_x1_0',
  'regnet_y_400mf',
  'mobilenet_v3_small',
  'efficientnet_b0',
  'convnext_tiny',
  'vit_b_16',
] as const;

/** One of {@link ZOO_NETS}. */
export type ZooNet = (typeof ZOO_NETS)[number];

/** The torchvision side of the zoo tests. */
export const ZOO_SCRIPT = 'test/zoo/reference.py';

/** Where the recorded facts live (one JSON per net, written by `reference.py facts`). */
export const FACTS_DIR = 'test/fixtures/zoo/torchvision';

/** A norm layer setting and how many layers of the net have it. */
export interface NormFact {
  readonly type: string;
  readonly eps: number;
  /** null for LayerNorm. */
  readonly momentum: number | null;
  readonly count: number;
}

/** What `reference.py facts` records about one net (see test/fixtures/zoo/README.md). */
export interface TorchvisionFacts {
  readonly name: ZooNet;
  readonly constructor: string;
  readonly trainableParams: number;
  /** BN running_mean and running_var elements (what netspec's countParams calls buffers). */
  readonly buffers: number;
  /** int64 num_batches_tracked scalars, one per BN layer, not in `buffers`. */
  readonly numBatchesTracked: number;
  readonly stateDictTensors: number;
  /** The smallest H = W accepted in eval mode. */
  readonly smallestInput: number;
  /** Sizes in smallestInput + 1 .. + 16 that are rejected (all 16 for vit_b_16, which takes only 224). */
  readonly rejectedAbove: readonly number[];
  readonly outputShape: readonly number[];
  readonly evalSecondsAtSmallest: number;
  readonly evalSecondsAt224: number;
  readonly sgdStepSecondsAtSmallest: number;
  readonly norms: readonly NormFact[];
  readonly leafModules: Readonly<Record<string, number>>;
  /** Dropout and StochasticDepth layers with p > 0; sgd-step sets them to p = 0. */
  readonly randomInTrain: readonly { readonly module: string; readonly type: string; readonly p: number }[];
  /** [name, shape, dtype] in state-dict order. */
  readonly stateDict: readonly (readonly [string, readonly number[], string])[];
}

/** The recorded facts of `name`; throws naming the file when it is missing or lacks a field. */
export function readFacts(name: ZooNet): TorchvisionFacts {
  const file = path.join(FACTS_DIR, `${name}.json`);
  const facts = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const key of ['trainableParams', 'buffers', 'smallestInput'])
    if (typeof facts[key] !== 'number') throw new Error(`${file}: no number ${key}`);
  if (facts.name !== name || !Array.isArray(facts.stateDict))
    throw new Error(`${file}: not the facts of ${name}`);
  return facts as unknown as TorchvisionFacts;
}

/** Where issue 13's later parts put the spec of `name`, in either form; the first that exists is used. */
export function zooSpecCandidates(name: ZooNet): string[] {
  return [`specs/zoo/${name}.net`, `specs/zoo/${name}.yaml`];
}

/** The spec of `name` (specs/zoo/<name>.net or .yaml), or undefined while it is not written. */
export function zooSpec(name: ZooNet): string | undefined {
  return zooSpecCandidates(name).find((file) => fs.existsSync(file));
}

/** The rename map of `name` (maps/zoo/<name>.yaml), or undefined where torchvision's names need none. */
export function zooMap(name: ZooNet): string | undefined {
  const file = `maps/zoo/${name}.yaml`;
  return fs.existsSync(file) ? file : undefined;
}

/**
 * True when Debian's python imports torch and torchvision; otherwise warns that `what` is skipped and why (the
 * way the parity tests do), so a skipped zoo test is never silent.
 */
export function zooTorchAvailable(what: string): boolean {
  return pythonHas(what, ['torch', 'torchvision']);
}

/** Runs `reference.py args...` with one thread (the CI machines and the dev box are shared); throws unless OK. */
export function zooReference(...args: string[]): void {
  const out = execFileSync(PYTHON, [ZOO_SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', ZOO_THREADS: '1' },
  });
  if (out.trim() !== 'OK') throw new Error(`${ZOO_SCRIPT} ${args.join(' ')}: ${out.trim()}`);
}

/**
 * {@link zooReference} without blocking the worker: a run that loads hundreds of MB of weights (vit_b_16's 330 MB,
 * vgg11_bn's 530 MB) takes tens of seconds, and a worker blocked that long misses vitest's RPC deadline.
 */
export async function zooReferenceAsync(...args: string[]): Promise<void> {
  const { stdout } = await promisify(execFile)(PYTHON, [ZOO_SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', ZOO_THREADS: '1' },
  });
  if (stdout.trim() !== 'OK') throw new Error(`${ZOO_SCRIPT} ${args.join(' ')}: ${stdout.trim()}`);
}

/** The files one reference run writes into its folder. */
export interface ZooCase {
  readonly dir: string;
  /** torchvision's state dict (its names), randomized. */
  readonly weights: string;
  /** `input`: batch 2, 3 x size x size. */
  readonly input: string;
  /** eval: `output`; sgd-step: the updated state dict, metadata `loss` and `zeroed`. */
  readonly expected: string;
  /** sgd-step only: int32 `labels`. */
  readonly labels: string;
  /** Where `generated` and `generated-step` write. */
  readonly generated: string;
}

function zooCase(dir: string): ZooCase {
  const at = (file: string) => path.join(dir, file);
  return {
    dir,
    weights: at('weights.safetensors'),
    input: at('input.safetensors'),
    expected: at('expected.safetensors'),
    labels: at('labels.safetensors'),
    generated: at('generated.safetensors'),
  };
}

/** A fresh temporary folder for one case. */
export function zooTempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `netspec-zoo-${name}-`));
}

/** torchvision's eval-mode output of `name`, randomized, at `size` (default: its smallest input). */
export function zooEval(name: ZooNet, size: number = readFacts(name).smallestInput): ZooCase {
  const dir = zooTempDir(name);
  zooReference('eval', name, String(size), dir);
  return zooCase(dir);
}

/** {@link zooEval} without blocking (see {@link zooReferenceAsync}). */
export async function zooEvalAsync(
  name: ZooNet,
  size: number = readFacts(name).smallestInput,
): Promise<ZooCase> {
  const dir = zooTempDir(name);
  await zooReferenceAsync('eval', name, String(size), dir);
  return zooCase(dir);
}

/** One SGD step of `name` in train mode at `size` (default: its smallest input), dropout set to p = 0. */
export function zooSgdStep(name: ZooNet, size: number = readFacts(name).smallestInput): ZooCase {
  const dir = zooTempDir(name);
  zooReference('sgd-step', name, String(size), dir);
  return zooCase(dir);
}

/**
 * The generated PyTorch module `model` (model.py) on `zooCase`'s weights, renamed by `map`: eval output, or with
 * `step` one SGD step; written to `zooCase.generated`.
 */
export function zooGenerated(name: ZooNet, model: string, zoo: ZooCase, map?: string, step = false): void {
  zooReference(step ? 'generated-step' : 'generated', name, model, zoo.dir, ...(map ? [map] : []));
}

/** Removes a case's folder (vgg11_bn's weights alone are 530 MB). */
export function removeZooCase(zoo: ZooCase): void {
  fs.rmSync(zoo.dir, { recursive: true, force: true });
}

/** A safetensors file, decoded. */
export function readSafetensors(file: string): DecodedSafetensors {
  return decodeSafetensors(fs.readFileSync(file), file);
}

/** The float32 tensor `name` of `file`; throws when there is none. */
export function readFloat(file: string, name: string): { shape: number[]; data: Float32Array } {
  const t = readSafetensors(file).tensors.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${file}: no float32 tensor ${name}`);
  return { shape: t.shape, data: t.data };
}

/** max |a - b| and max |b| (the reference's scale, to show it is not trivially small); lengths must agree. */
export function maxDifference(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
  }
  return { diff, scale };
}

/** The zoo's eval tolerance: max |difference| relative to max |torchvision output|. */
export const ZOO_EVAL_TOLERANCE = 1e-4;

/**
 * Asserts that the `output` tensor of the safetensors file `ours` is torchvision's (`zoo.expected`) within
 * {@link ZOO_EVAL_TOLERANCE} of its scale, and logs the difference and the seconds `took`.
 */
export function expectTorchvisionOutput(what: string, ours: string, zoo: ZooCase, took: number): void {
  const theirs = readFloat(zoo.expected, 'output');
  const got = readFloat(ours, 'output');
  expect(got.shape).toEqual(theirs.shape);
  const { diff, scale } = maxDifference(got.data, theirs.data);
  console.log(
    `${what}: max |difference| ${diff.toExponential(2)}, ${(diff / scale).toExponential(2)} of ` +
      `max |output| ${scale.toFixed(3)} (${took.toFixed(1)} s)`,
  );
  expect(scale).toBeGreaterThan(0.1);
  expect(diff).toBeLessThanOrEqual(ZOO_EVAL_TOLERANCE * scale);
}
