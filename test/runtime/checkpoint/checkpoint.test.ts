import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict } from '../../../src/compiler/targets/tfjs/index.js';
import {
  describeConfigChange,
  describeIrChange,
  loadCheckpoint,
  openRunFolder,
  recoverFolders,
  saveCheckpoint,
  writeFolderAtomic,
  type CheckpointContents,
} from '../../../src/runtime/checkpoint/index.js';
import {
  DEFAULT_TRAIN_CONFIG,
  train,
  type RunConfig,
  type TrainConfig,
  type TrainSnapshot,
} from '../../../src/runtime/train/index.js';
import { TINY_SPEC, tinyData, tinyIr, useCpu } from '../train/tiny-network.js';

const ir = tinyIr();
const trainSet = tinyData(100, 1);
const devSet = tinyData(40, 2);
const training: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  lr: 0.05,
  batchSize: 16,
  epochs: 3,
  logSteps: 5,
  evalSteps: 5,
  seed: 11,
};
const runConfig: RunConfig = { training, data: { source: 'synthetic', train: 100, dev: 40, test: 0 } };
let tmp: string;

beforeAll(async () => {
  await useCpu();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-ckpt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function contents(extra: Partial<CheckpointContents> = {}): CheckpointContents {
  return {
    kind: 'best',
    ir,
    config: runConfig,
    backend: 'cpu',
    weights: getStateDict(buildModel(ir, { seed: 1 }), ir),
    ...extra,
  };
}

function fresh(name: string): string {
  const dir = path.join(tmp, name);
  saveCheckpoint(dir, contents());
  return dir;
}

describe('writing and reading', () => {
  it('round-trips weights, metadata and the IR, with a manifest of sizes and SHA-256', () => {
    const c = contents();
    const dir = path.join(tmp, 'roundtrip');
    saveCheckpoint(dir, c);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      files: { path: string; size: number }[];
    };
    expect(manifest.files.map((f) => f.path).sort()).toEqual([
      'checkpoint.json',
      'ir.json',
      'weights.safetensors',
    ]);
    for (const f of manifest.files) expect(fs.statSync(path.join(dir, f.path)).size).toBe(f.size);
    const loaded = loadCheckpoint(dir);
    expect(loaded.ir).toEqual(ir);
    expect(loaded.meta.kind).toBe('best');
    expect(loaded.meta.config).toEqual(runConfig);
    expect([...loaded.weights.keys()]).toEqual([...c.weights.keys()].sort());
    for (const [k, t] of c.weights) {
      expect(loaded.weights.get(k)?.shape).toEqual(t.shape);
      expect(Array.from(loaded.weights.get(k)?.data ?? [])).toEqual(Array.from(t.data));
    }
  });

  it('replaces an existing checkpoint, leaving no temporary folders', () => {
    const dir = fresh('replace');
    saveCheckpoint(dir, contents({ best: { step: 5, epoch: 0, score: 0.5, loss: 1 } }));
    expect(loadCheckpoint(dir).meta.best).toEqual({ step: 5, epoch: 0, score: 0.5, loss: 1 });
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith('.replace'))).toEqual([]);
  });

  it('recovers from a crash in the middle of a replacement (old folder set aside, new one not in place)', () => {
    const parent = path.join(tmp, 'crash');
    const dir = path.join(parent, 'last');
    saveCheckpoint(dir, contents());
    fs.renameSync(dir, path.join(parent, '.last.old-abc123'));
    fs.mkdirSync(path.join(parent, '.last.tmp-def456'));
    fs.writeFileSync(path.join(parent, '.last.tmp-def456', 'weights.safetensors'), 'partial');
    const actions = recoverFolders(parent);
    expect(actions).toEqual([
      'restored last (a replacement was interrupted)',
      'removed the leftover unfinished folder .last.tmp-def456',
    ]);
    expect(fs.readdirSync(parent)).toEqual(['last']);
    expect(loadCheckpoint(dir).meta.kind).toBe('best');
  });

  it('removes a set-aside old folder when the new one is in place', () => {
    const parent = path.join(tmp, 'crash2');
    saveCheckpoint(path.join(parent, 'best'), contents());
    fs.mkdirSync(path.join(parent, '.best.old-0a1b'));
    expect(recoverFolders(parent)).toEqual(['removed the leftover replaced folder .best.old-0a1b']);
    expect(fs.readdirSync(parent)).toEqual(['best']);
  });
});

describe('corruption is detected and named', () => {
  const weights = 'weights.safetensors';

  it('a missing file', () => {
    const dir = fresh('missing');
    fs.rmSync(path.join(dir, weights));
    expect(() => loadCheckpoint(dir)).toThrow(`${dir}: file 'weights.safetensors' is missing`);
  });

  it('a short file', () => {
    const dir = fresh('short');
    const file = path.join(dir, weights);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 10);
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: file 'weights.safetensors' is ${size - 10} bytes, the manifest says ${size} (truncated)`,
    );
  });

  it('a long file', () => {
    const dir = fresh('long');
    const file = path.join(dir, weights);
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, 'xyz');
    expect(() => loadCheckpoint(dir)).toThrow(
      `file 'weights.safetensors' is ${size + 3} bytes, the manifest says ${size} (longer than written)`,
    );
  });

  it('an altered byte', () => {
    const dir = fresh('altered');
    const file = path.join(dir, weights);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    fs.writeFileSync(file, bytes);
    expect(() => loadCheckpoint(dir)).toThrow(
      /file 'weights\.safetensors' has SHA-256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}… \(its content was altered\)/,
    );
  });

  it('no manifest', () => {
    const dir = fresh('nomanifest');
    fs.rmSync(path.join(dir, 'manifest.json'));
    expect(() => loadCheckpoint(dir)).toThrow(`${dir}: no manifest.json; this is not a netspec checkpoint`);
  });

  function withManifestPath(name: string, p: string): string {
    const dir = fresh(name);
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: { path: string }[] };
    const first = m.files[0];
    if (first) first.path = p;
    fs.writeFileSync(file, JSON.stringify(m));
    return dir;
  }

  it.each([
    ['../outside.json', "contains '..'"],
    ['a/../../b', "contains '..'"],
    ['/etc/passwd', 'is absolute'],
    ['C:/x', 'is absolute'],
    ['a\\b', 'contains a backslash'],
  ])('a manifest path %s', (p, why) => {
    const dir = withManifestPath(`path-${Buffer.from(p).toString('hex')}`, p);
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: manifest.json lists the path '${p}', which ${why}; refusing it`,
    );
  });

  it('a symbolic link', () => {
    const dir = fresh('symlink');
    const file = path.join(dir, weights);
    const target = path.join(tmp, 'elsewhere.safetensors');
    fs.renameSync(file, target);
    fs.symlinkSync(target, file);
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: file 'weights.safetensors': 'weights.safetensors' is a symbolic link; refusing it`,
    );
  });

  it('NaN weights, even with a consistent manifest', () => {
    const c = contents();
    const key = 'body.1.running_var';
    const t = c.weights.get(key);
    if (!t) throw new Error('no BN running variance in the tiny network');
    t.data[2] = NaN;
    const dir = path.join(tmp, 'nan');
    saveCheckpoint(dir, c);
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: weights.safetensors: tensor '${key}' holds NaN at index 2; refusing non-finite weights`,
    );
  });

  it('writing refuses unsafe names (a program error)', () => {
    expect(() => writeFolderAtomic(path.join(tmp, 'bad'), new Map([['../x', new Uint8Array(1)]]))).toThrow(
      "contains '..'",
    );
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.bad'))).toEqual([]);
  });
});

describe('resume', () => {
  it.each(['sgd', 'momentum', 'adam'] as const)(
    '3 epochs straight equal 1 epoch + checkpoint on disk + 2 resumed epochs, weights bit for bit (%s)',
    async (optimizer) => {
      const config = { ...training, optimizer, lr: optimizer === 'adam' ? 0.01 : 0.05 };
      const straight = buildModel(ir, { seed: 11 });
      const full = await train({ model: straight, ir, train: trainSet, dev: devSet, config });
      expect(full.status).toBe('completed');

      const dir = path.join(tmp, `resume-${optimizer}`);
      const controller = new AbortController();
      let epochEnds = 0;
      const first = await train({
        model: buildModel(ir, { seed: 11 }),
        ir,
        train: trainSet,
        dev: devSet,
        config,
        signal: controller.signal,
        hooks: {
          saveLast: (s: TrainSnapshot) => {
            epochEnds += 1;
            saveCheckpoint(dir, {
              kind: 'last',
              ir,
              config: { ...runConfig, training: config },
              backend: 'cpu',
              weights: s.weights,
              optimizer: s.optimizer,
              progress: s.progress,
              history: s.history,
            });
            controller.abort();
          },
        },
      });
      expect(first.status).toBe('interrupted');
      expect(epochEnds).toBe(1);
      const last = loadCheckpoint(dir);
      expect(last.meta.progress).toMatchObject({ epoch: 1, stepInEpoch: 0, globalStep: 7 });
      expect(last.optimizer?.iterations).toBe(7);
      if (!last.meta.progress || !last.meta.history || !last.optimizer)
        throw new Error('incomplete last checkpoint');

      const resumed = buildModel(ir, { seed: 12345 });
      const rest = await train({
        model: resumed,
        ir,
        train: trainSet,
        dev: devSet,
        config,
        resume: {
          weights: last.weights,
          optimizer: last.optimizer,
          progress: last.meta.progress,
          history: last.meta.history,
        },
      });
      expect(rest.status).toBe('completed');
      expect(rest.history).toEqual(full.history);
      const a = getStateDict(straight, ir);
      const b = getStateDict(resumed, ir);
      for (const [k, t] of a) expect(Array.from(b.get(k)?.data ?? []), k).toEqual(Array.from(t.data));
    },
  );
});

describe('what changed', () => {
  it('names a changed network parameter and the layers it changes', () => {
    const five = tinyIr(TINY_SPEC.replace('num_classes: 4', 'num_classes: 5'));
    expect(describeIrChange(ir, ir)).toEqual([]);
    expect(describeIrChange(ir, five)).toEqual([
      'parameter num_classes: 4 → 5',
      'layer head.2: outputShape: [4] → [5]; params.weight.shape: [4, 4] → [5, 4]; params.bias.shape: [4] → [5]; ... and 1 more',
    ]);
  });

  it('names changed options', () => {
    const other: RunConfig = { ...runConfig, training: { ...training, optimizer: 'adam', lr: 0.001 } };
    expect(describeConfigChange(runConfig, other)).toEqual([
      'training.lr: 0.05 → 0.001',
      'training.optimizer: "sgd" → "adam"',
    ]);
  });
});

describe('run folders', () => {
  it('refuses a non-empty folder unless resuming or forcing, and forces only over a run folder', () => {
    const dir = path.join(tmp, 'run1');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    expect(() => openRunFolder(dir, 'new')).toThrow(
      `${dir} exists and is not empty; pass --resume to continue that run or --force to replace it`,
    );
    expect(() => openRunFolder(dir, 'force')).toThrow('does not look like a netspec run folder');
    expect(() => openRunFolder(dir, 'resume')).toThrow(
      `nothing to resume in ${dir}: it has no checkpoints/last`,
    );
    fs.writeFileSync(path.join(dir, 'train.log'), 'old');
    const folder = openRunFolder(dir, 'force');
    expect(fs.readdirSync(dir)).toEqual(['.lock']);
    folder.close();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('locks the folder while a run uses it, and cleans leftovers when opening', () => {
    const dir = path.join(tmp, 'run2');
    const a = openRunFolder(dir, 'new');
    expect(() => openRunFolder(dir, 'force')).toThrow(
      `${dir} is in use by another netspec run (process ${process.pid})`,
    );
    saveCheckpoint(a.lastDir, contents());
    a.close();
    fs.mkdirSync(path.join(dir, 'checkpoints', '.best.tmp-99'));
    const b = openRunFolder(dir, 'resume');
    expect(b.recovered).toEqual(['removed the leftover unfinished folder .best.tmp-99']);
    b.close();
  });

  it('treats a lock whose process is gone as stale', () => {
    const dir = path.join(tmp, 'run3');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '.lock'), '999999999\n');
    const folder = openRunFolder(dir, 'new');
    folder.close();
  });
});
