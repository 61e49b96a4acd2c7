import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict } from '../../../src/compiler/targets/tfjs/index.js';
import {
  checkCheckpointFits,
  describeConfigChange,
  describeIrChange,
  loadCheckpoint,
  openRunFolder,
  readFolderVerified,
  recoverFolders,
  saveCheckpoint,
  writeFolderAtomic,
  type CheckpointContents,
} from '../../../src/runtime/checkpoint/index.js';
import {
  DEFAULT_TRAIN_CONFIG,
  initialProgress,
  train,
  type RunConfig,
  type TrainConfig,
  type TrainSnapshot,
} from '../../../src/runtime/train/index.js';
import { markerText } from '../../../src/runtime/files/marker.js';
import { TINY_SPEC, tinyData, tinyIr, useCpu } from '../train/tiny-network.js';
import { CheckpointError } from '../../../src/runtime/errors.js';

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

/** checkpoint.json as the edits below reach into it: any field, at any depth, of any type (that is the point). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EditableJson = Record<string, any>;

/** A `last` checkpoint of 5 steps (2 logged, 1 evaluation) whose files are rewritten by `edit`, manifest included. */
function editedLast(name: string, edit: (meta: EditableJson) => void): string {
  const dir = path.join(tmp, name);
  saveCheckpoint(
    dir,
    contents({
      kind: 'last',
      optimizer: { kind: 'sgd', iterations: 5, slots: new Map() },
      progress: { ...initialProgress(training), globalStep: 5, stepInEpoch: 5, bestScore: 0.25, bestStep: 4 },
      history: {
        steps: [0, 1, 2, 3, 4].map((step) => ({ step, epoch: 0, loss: 1.5 - step / 10, lr: 0.05 })),
        logged: [0, 4],
        evaluations: [{ step: 4, epoch: 0, score: 0.25, loss: 1.2, improved: true }],
        epochs: [],
      },
      best: { step: 4, epoch: 0, score: 0.25, loss: 1.2 },
    }),
  );
  const files = readFolderVerified(dir);
  const meta = JSON.parse(new TextDecoder().decode(files.get('checkpoint.json'))) as EditableJson;
  edit(meta);
  files.set('checkpoint.json', new TextEncoder().encode(JSON.stringify(meta, null, 2)));
  writeFolderAtomic(dir, files);
  return dir;
}

describe('checkpoint.json is checked field by field, even with a consistent manifest', () => {
  it('an unedited last checkpoint loads', () => {
    const loaded = loadCheckpoint(editedLast('meta-ok', () => undefined));
    expect(loaded.meta.history?.steps).toHaveLength(5);
  });

  it.each<[string, (m: EditableJson) => void, string]>([
    [
      'a step loss',
      (m) => (m.history.steps[3].loss = 'x'),
      'history.steps[3].loss is "x", expected a number',
    ],
    ['a step', (m) => (m.history.steps[3] = null), 'history.steps[3] is null, expected an object'],
    ['a step field', (m) => delete m.history.steps[1].lr, 'history.steps[1].lr is missing'],
    ['a logged step', (m) => (m.history.logged[1] = -4), 'history.logged[1] is -4, expected a number >= 0'],
    [
      'a fractional step',
      (m) => (m.history.logged[0] = 0.5),
      'history.logged[0] is 0.5, expected an integer',
    ],
    [
      'an evaluation flag',
      (m) => (m.history.evaluations[0].improved = 'yes'),
      'history.evaluations[0].improved is "yes", expected true or false',
    ],
    [
      'an unknown field',
      (m) => (m.history.evaluations[0].note = 1),
      'history.evaluations[0] has an unknown field "note"',
    ],
    ['a history list', (m) => (m.history.epochs = {}), 'history.epochs is an object, expected an array'],
    [
      'the generator state',
      (m) => m.progress.epochPrng.pop(),
      'progress.epochPrng has 3 items, expected at least 4',
    ],
    [
      'a generator word',
      (m) => (m.progress.epochPrng[2] = 2 ** 32),
      'progress.epochPrng[2] is 4294967296, expected a number <= 4294967295',
    ],
    [
      'the best step',
      (m) => (m.progress.bestStep = 'four'),
      'progress.bestStep is "four", expected an integer or null',
    ],
    ['the best score', (m) => (m.best.score = 2), 'best.score is 2, expected a number <= 1'],
    [
      'a batch size',
      (m) => (m.config.training.batchSize = 0),
      'config.training.batchSize is 0, expected a number >= 1',
    ],
    [
      'a schedule',
      (m) => (m.config.training.schedule = { kind: 'linear' }),
      'config.training.schedule.kind is "linear", expected one of "constant", "step", "cosine"',
    ],
    [
      'a schedule field',
      (m) => (m.config.training.schedule = { kind: 'step', stepEpochs: 2 }),
      'config.training.schedule.gamma is missing',
    ],
    [
      'a momentum out of range',
      (m) => (m.config.training.momentum = 1),
      'config.training: momentum must be in [0, 1), not 1',
    ],
    ['the data source', (m) => (m.config.data.source = 7), 'config.data.source is 7, expected a string'],
    [
      'the optimizer',
      (m) => (m.optimizer.kind = 'rmsprop'),
      'optimizer.kind is "rmsprop", expected one of "sgd", "momentum", "adam"',
    ],
    ['a missing field', (m) => delete m.backend, 'backend is missing'],
    ['an unknown top-level field', (m) => (m.extra = true), 'the document has an unknown field "extra"'],
    ['the kind', (m) => (m.kind = 'final'), 'kind is "final", expected one of "last", "best"'],
    ['the version', (m) => (m.version = 2), 'version 2; this netspec reads version 1'],
    [
      'the history of a last checkpoint',
      (m) => (m.history = null),
      "history is null; a 'last' checkpoint needs it to resume",
    ],
  ])('%s', (_, edit, problem) => {
    const dir = editedLast(`meta-${problem.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`, edit);
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(`${dir}: checkpoint.json: ${problem}`);
  });
});

describe('weights that do not fit the IR', () => {
  function withWeights(
    name: string,
    edit: (w: Map<string, { shape: number[]; data: Float32Array }>) => void,
  ) {
    const c = contents();
    const weights = new Map([...c.weights].map(([k, t]) => [k, { shape: [...t.shape], data: t.data }]));
    edit(weights);
    const dir = path.join(tmp, name);
    saveCheckpoint(dir, { ...c, weights });
    return dir;
  }

  it('a tensor of another shape with as many values is refused by loadCheckpoint, by name', () => {
    const dir = withWeights('reshaped', (w) => {
      const t = w.get('head.2.weight');
      if (t) t.shape = [2, 8];
    });
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: weights.safetensors does not fit ir.json: tensor 'head.2.weight' has shape [2, 8], the network needs [4, 4]`,
    );
    const wide = withWeights('reshaped-wide', (w) => {
      const t = w.get('body.0.weight');
      if (t) t.shape = [4, 9];
    });
    expect(() => loadCheckpoint(wide)).toThrow(
      "tensor 'body.0.weight' has shape [4, 9], the network needs [4, 1, 3, 3]",
    );
  });

  it('a missing or an extra tensor too', () => {
    const missing = withWeights('missing-tensor', (w) => w.delete('body.1.running_mean'));
    expect(() => loadCheckpoint(missing)).toThrow("tensor 'body.1.running_mean' [4] is missing");
    const extra = withWeights('extra-tensor', (w) =>
      w.set('head.3.weight', { shape: [1], data: new Float32Array(1) }),
    );
    expect(() => loadCheckpoint(extra)).toThrow("tensor 'head.3.weight' is not a parameter of 'tiny'");
  });
});

describe('checkCheckpointFits', () => {
  it('passes the spec the checkpoint was trained with', () => {
    expect(() => checkCheckpointFits(loadCheckpoint(fresh('fits')), ir, 'tiny.yaml')).not.toThrow();
  });

  it('lists what changed for another network', () => {
    const five = tinyIr(TINY_SPEC.replace('num_classes: 4', 'num_classes: 5'));
    const dir = fresh('fits-not');
    expect(() => checkCheckpointFits(loadCheckpoint(dir), five, 'tiny.yaml')).toThrow(
      new CheckpointError(
        `tiny.yaml does not describe the network in ${dir}:\n  parameter num_classes: 4 → 5\n` +
          '  layer head.2: outputShape: [4] → [5]; params.weight.shape: [4, 4] → [5, 4]; params.bias.shape: [4] → [5]; ... and 1 more',
      ),
    );
  });

  it('names weights of another shape even when the IR hash matches', () => {
    const loaded = loadCheckpoint(fresh('fits-shape'));
    const weights = new Map(loaded.weights);
    weights.set('head.2.bias', { shape: [2, 2], data: new Float32Array(4) });
    expect(() => checkCheckpointFits({ ...loaded, weights }, ir, 'tiny.yaml')).toThrow(
      `${loaded.dir}: the weights do not fit the network of tiny.yaml: tensor 'head.2.bias' has shape [2, 2], the network needs [4]`,
    );
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
      // Everything but the epochs' timings (images/s, seconds), which are the clock's.
      const untimed = (h: typeof full.history): unknown => ({
        ...h,
        epochs: h.epochs.map(({ imagesPerSecond: _ips, seconds: _s, ...e }) => e),
      });
      expect(untimed(rest.history)).toEqual(untimed(full.history));
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
    expect(() => openRunFolder(dir, 'force')).toThrow(
      `${dir} is not a netspec run folder (it holds notes.txt); not replacing it`,
    );
    expect(() => openRunFolder(dir, 'resume')).toThrow(
      `nothing to resume in ${dir}: it is not a netspec run folder (it holds notes.txt)`,
    );
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    // A train.log alone does not make a run folder: the marker (or netspec's metrics or checkpoints) does.
    fs.rmSync(path.join(dir, 'notes.txt'));
    fs.writeFileSync(path.join(dir, 'train.log'), 'old');
    expect(() => openRunFolder(dir, 'force')).toThrow(`${dir} is not a netspec run folder`);
    fs.writeFileSync(path.join(dir, '.netspec.json'), markerText('run'));
    const folder = openRunFolder(dir, 'force');
    expect(fs.readdirSync(dir).sort()).toEqual(['.lock', '.netspec.json']);
    folder.close();
    expect(fs.readdirSync(dir)).toEqual(['.netspec.json']);
    expect(() => openRunFolder(dir, 'resume')).toThrow(
      `nothing to resume in ${dir}: it has no checkpoints/last`,
    );
  });

  it('locks the folder while a run uses it, and cleans leftovers when opening', () => {
    const dir = path.join(tmp, 'run2');
    const a = openRunFolder(dir, 'new');
    expect(() => openRunFolder(dir, 'force')).toThrow(
      `${dir} is in use by another netspec run (this process); if that is not a netspec run, remove ${path.join(dir, '.lock')}`,
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
