/** Evaluating a saved checkpoint on its run's data (RunnerV3's `evaluate`), for `netspec evaluate`. */
import fs from 'node:fs';
import path from 'node:path';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel, setStateDict } from '../../compiler/targets/tfjs/index.js';
import { selectBackend, type BackendName } from '../backends/index.js';
import { checkCheckpointFits, loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.js';
import { CheckpointError } from '../errors.js';
import type { RunConfig } from '../train/config.js';
import { formatFixed, testLine } from '../train/log-lines.js';
import { evaluate, type EvaluationResult } from '../train/trainer.js';
import { loadRunData } from './data.js';

/** One evaluation to do. */
export interface EvaluateRequest {
  readonly spec: string;
  readonly ir: IrNetwork;
  /** A checkpoint folder, or a run folder (its checkpoints/best, else last). */
  readonly checkpoint: string;
  /** The data source; default: the run's. */
  readonly data?: string;
  readonly split: 'test' | 'dev';
  readonly backend: BackendName;
  /** Examples per batch; default: the run's (the loss is a mean of batch means). */
  readonly batchSize?: number;
  /** Shows what is evaluated, and the result. */
  readonly line: (text: string) => void;
}

/** A checkpoint folder, or a run folder whose checkpoints/best (else last) is meant. */
function resolveCheckpointDir(dir: string): string {
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  for (const kind of ['best', 'last']) {
    const inner = path.join(dir, 'checkpoints', kind);
    if (fs.existsSync(path.join(inner, 'manifest.json'))) return inner;
  }
  return dir;
}

function describeCheckpoint(c: LoadedCheckpoint): string {
  const m = c.meta;
  if (m.kind === 'best' && m.best)
    return `${c.dir} (best model: step ${m.best.step}, epoch ${m.best.epoch}, dev accuracy ${formatFixed(m.best.score, 5)})`;
  if (m.progress) return `${c.dir} (${m.kind}: epoch ${m.progress.epoch}, step ${m.progress.globalStep})`;
  return `${c.dir} (${m.kind})`;
}

/** Loads the checkpoint (verified, checked against the spec) and evaluates it on the asked-for split. */
export async function evaluateCheckpoint(request: EvaluateRequest): Promise<EvaluationResult> {
  const { ir, line } = request;
  const checkpoint = loadCheckpoint(resolveCheckpointDir(request.checkpoint));
  checkCheckpointFits(checkpoint, ir, request.spec);
  const backend = await selectBackend(request.backend);
  line(`backend: ${backend.name}`);
  for (const reason of backend.reasons) line(`  ${reason}`);
  const saved = checkpoint.meta.config;
  const config: RunConfig = { ...saved, data: { ...saved.data, source: request.data ?? saved.data.source } };
  const data = await loadRunData(ir, config);
  line(`data: ${data.description}`);
  line(`checkpoint: ${describeCheckpoint(checkpoint)}`);
  const model = buildModel(ir, { seed: 0 });
  try {
    const diagnostics = setStateDict(model, ir, checkpoint.weights);
    if (diagnostics.length)
      throw new CheckpointError(`${checkpoint.dir}: ${diagnostics.map((d) => d.message).join('; ')}`);
    const split = request.split === 'dev' ? data.dev : data.test;
    const result = await evaluate(model, ir, split, request.batchSize ?? saved.training.batchSize);
    line(testLine(result.accuracy, result.loss, request.split));
    return result;
  } finally {
    model.dispose();
  }
}
