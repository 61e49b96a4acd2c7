/**
 * The training section's checks, with positions: settings by field and where each came from, every diagnostic
 * at file:line:col with its hint in the file's own syntax, extends, --set, and an IR the section never touches.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeIr } from '../../src/compiler/ir.js';
import { writeSetting } from '../../src/compiler/training.js';
import type { CompileOptions } from '../../src/compiler/index.js';
import { compile } from '../support/compile.js';

const YAML_HEAD = 'netspec: 1\nname: n\ninput: [4]\nmodules:\n  - m: [linear: 2]\n';
const yaml = (training: string): string => `${YAML_HEAD}training:\n${training}\n`;
const net = (training: string): string =>
  `network n {\n  input [4]\n  module m { linear(2) }\n  training {\n${training}\n  }\n}\n`;

/** The diagnostics as `file:line:col CODE message | hint`. */
function diags(file: string, files: Record<string, string>, options: CompileOptions = {}): string[] {
  const r = compile(file, files, options);
  if (r.diagnostics.some((d) => d.severity === 'error')) expect(r.ir).toBeUndefined();
  return r.diagnostics.map(
    (d) =>
      `${d.span?.file ?? '?'}:${d.span?.line ?? 0}:${d.span?.col ?? 0} ${d.code} ${d.message}${d.hint ? ` | ${d.hint}` : ''}`,
  );
}

describe('training settings: YAML and DSL give the same settings', () => {
  const y = yaml(
    '  optimizer: adam\n  lr: 0.001\n  eval_every: epoch\n  log_every: 0\n  seed: -3\n  data: "idx:/data/mnist"\n' +
      '  early_stopping: {monitor: dev_loss, patience: 3}\n  checkpoint: {top_k: 2}\n  augment: {hflip: true, rotate: 10.5}',
  );
  const d = net(
    '    optimizer = "adam"; lr = 0.001; eval_every = "epoch"; log_every = 0; seed = -3; data = "idx:/data/mnist"\n' +
      '    early_stopping { monitor = "dev_loss"; patience = 3 }\n    checkpoint { top_k = 2 }\n    augment { hflip = true; rotate = 10.5 }',
  );
  const expected = {
    optimizer: 'adam',
    lr: 0.001,
    evalSteps: 'epoch',
    logSteps: 0,
    seed: -3,
    data: 'idx:/data/mnist',
    earlyStopMonitor: 'dev_loss',
    earlyStopPatience: 3,
    checkpointTopK: 2,
    augmentHflip: true,
    augmentRotate: 10.5,
  };

  it('by field, with the line of each key as its origin', () => {
    const ry = compile('t.yaml', { 't.yaml': y });
    const rd = compile('t.net', { 't.net': d });
    expect(ry.diagnostics).toEqual([]);
    expect(rd.diagnostics).toEqual([]);
    expect(ry.training).toStrictEqual(expected);
    expect(rd.training).toStrictEqual(expected);
    expect(ry.trainingOrigins).toStrictEqual({
      optimizer: 't.yaml:7',
      lr: 't.yaml:8',
      evalSteps: 't.yaml:9',
      logSteps: 't.yaml:10',
      seed: 't.yaml:11',
      data: 't.yaml:12',
      earlyStopMonitor: 't.yaml:13',
      earlyStopPatience: 't.yaml:13',
      checkpointTopK: 't.yaml:14',
      augmentHflip: 't.yaml:15',
      augmentRotate: 't.yaml:15',
    });
    expect(rd.trainingOrigins.lr).toBe('t.net:5');
    expect(rd.trainingOrigins.checkpointTopK).toBe('t.net:7');
  });

  it('is {} without a section', () => {
    const r = compile('t.yaml', { 't.yaml': YAML_HEAD });
    expect(r.ir).toBeDefined();
    expect(r.training).toStrictEqual({});
    expect(r.trainingOrigins).toStrictEqual({});
  });

  // The canonical specs come in both forms, and so do their sections.
  const names = [
    ...new Set(
      fs.readdirSync('specs').flatMap((f) => (/\.(yaml|net)$/.test(f) ? [f.replace(/\.\w+$/, '')] : [])),
    ),
  ].sort();
  for (const name of names)
    it(`specs/${name}: the .yaml and the .net give the same settings`, () => {
      const y = compile(`specs/${name}.yaml`);
      const d = compile(`specs/${name}.net`);
      expect(y.diagnostics).toEqual([]);
      expect(d.diagnostics).toEqual([]);
      expect(d.training).toStrictEqual(y.training);
    });
});

/** The spec's text without its training section (YAML: the `training:` key and its indented lines). */
function withoutSection(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.yaml')) return text.replace(/^training:.*\n(?:(?:[ \t].*|[ \t]*#.*|)\n)*/m, '');
  const start = text.search(/^\s*training \{/m);
  if (start < 0) return text;
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(0, start) + text.slice(i + 1);
  }
  return text;
}

describe('training settings: the IR never sees them', () => {
  const section = yaml('  lr: 0.1\n  epochs: 2\n  augment: {crop_padding: 2}').slice(YAML_HEAD.length);
  for (const spec of ['specs/resnet18.yaml', 'specs/lenet5.yaml', 'specs/vgg-small.yaml'])
    it(`${spec}: byte-identical IR without a section, with its own, and with another`, () => {
      const bare = withoutSection(spec);
      expect(bare).not.toMatch(/^training:/m);
      const plain = compile(spec, { [spec]: bare });
      const trained = compile(spec, { [spec]: `${bare}${section}` });
      expect(plain.training).toStrictEqual({});
      expect(trained.diagnostics).toEqual([]);
      expect(trained.training).toStrictEqual({ lr: 0.1, epochs: 2, augmentCropPadding: 2 });
      expect(plain.ir && trained.ir).toBeDefined();
      expect(serializeIr(trained.ir!)).toBe(serializeIr(plain.ir!));
      expect(serializeIr(compile(spec).ir!)).toBe(serializeIr(plain.ir!));
    });

  for (const spec of ['specs/lenet5.net', 'specs/resnet18.net'])
    it(`${spec}: byte-identical IR without a section, with its own, and with another`, () => {
      const bare = withoutSection(spec);
      expect(bare).not.toMatch(/training \{/);
      const close = bare.lastIndexOf('}');
      const trained = compile(spec, {
        [spec]: `${bare.slice(0, close)}  training { lr = 0.1; early_stopping { patience = 2 } }\n}\n`,
      });
      const plain = compile(spec, { [spec]: bare });
      expect(plain.training).toStrictEqual({});
      expect(trained.diagnostics).toEqual([]);
      expect(trained.training).toStrictEqual({ lr: 0.1, earlyStopPatience: 2 });
      expect(serializeIr(trained.ir!)).toBe(serializeIr(plain.ir!));
      expect(serializeIr(compile(spec).ir!)).toBe(serializeIr(plain.ir!));
    });
});

describe('training settings: diagnostics with positions (YAML)', () => {
  it('unknown keys, with other tools’ names mapped and hints in YAML', () => {
    const text = yaml(
      [
        '  learning_rate: 0.01',
        '  lr_rate: 0.01',
        '  batchsize: 32',
        '  batch: 32',
        '  num_epochs: 10',
        '  max_epochs: 10',
        '  optim: adam',
        '  patience: 3',
        '  scheduler: cosine',
        '  lr_scheduler: step',
        '  epoch: 3',
        '  monitor: dev_loss',
        '  foo: 1',
      ].join('\n'),
    );
    expect(diags('t.yaml', { 't.yaml': text })).toEqual([
      "t.yaml:7:3 UNKNOWN_TRAINING_KEY unknown training setting 'learning_rate' | netspec calls it lr: write lr: 0.01",
      "t.yaml:8:3 UNKNOWN_TRAINING_KEY unknown training setting 'lr_rate' | netspec calls it lr: write lr: 0.01",
      "t.yaml:9:3 UNKNOWN_TRAINING_KEY unknown training setting 'batchsize' | netspec calls it batch_size: write batch_size: 32",
      "t.yaml:10:3 UNKNOWN_TRAINING_KEY unknown training setting 'batch' | netspec calls it batch_size: write batch_size: 32",
      "t.yaml:11:3 UNKNOWN_TRAINING_KEY unknown training setting 'num_epochs' | netspec calls it epochs: write epochs: 10",
      "t.yaml:12:3 UNKNOWN_TRAINING_KEY unknown training setting 'max_epochs' | netspec calls it epochs: write epochs: 10",
      "t.yaml:13:3 UNKNOWN_TRAINING_KEY unknown training setting 'optim' | netspec calls it optimizer: write optimizer: adam",
      "t.yaml:14:3 UNKNOWN_TRAINING_KEY unknown training setting 'patience' | netspec calls it early_stopping.patience: write early_stopping: {patience: 3}",
      "t.yaml:15:3 UNKNOWN_TRAINING_KEY unknown training setting 'scheduler' | netspec calls it schedule: write schedule: cosine",
      "t.yaml:16:3 UNKNOWN_TRAINING_KEY unknown training setting 'lr_scheduler' | netspec calls it schedule: write schedule: step",
      "t.yaml:17:3 UNKNOWN_TRAINING_KEY unknown training setting 'epoch' | did you mean 'epochs': write epochs: 3",
      "t.yaml:18:3 UNKNOWN_TRAINING_KEY unknown training setting 'monitor' | it belongs to a group: early_stopping.monitor or checkpoint.monitor",
      "t.yaml:19:3 UNKNOWN_TRAINING_KEY unknown training setting 'foo' | the settings are optimizer, lr, momentum, nesterov, weight_decay, schedule, lr_step, lr_gamma, lr_min, warmup_epochs, epochs, batch_size, data, train, dev, test, log_every, eval_every, seed, log_format, label_smoothing and the groups early_stopping, checkpoint, augment",
    ]);
  });

  it('unknown keys and groups inside groups', () => {
    const text = yaml(
      '  early_stopping: {patiance: 3, top_k: 2}\n  augment: {lr: 0.1, zoom: 0.2}\n  early_stop: {patience: 3}\n  augmentation: {}',
    );
    expect(diags('t.yaml', { 't.yaml': text })).toEqual([
      "t.yaml:7:20 UNKNOWN_TRAINING_KEY unknown early_stopping setting 'patiance' | did you mean 'patience': write patience: 3",
      "t.yaml:7:33 UNKNOWN_TRAINING_KEY unknown early_stopping setting 'top_k' | it belongs to checkpoint: write checkpoint: {top_k: 2}",
      "t.yaml:8:13 UNKNOWN_TRAINING_KEY unknown augment setting 'lr' | it is a top-level setting: write lr: 0.1",
      "t.yaml:8:22 UNKNOWN_TRAINING_KEY unknown augment setting 'zoom' | its settings are crop_padding, hflip, rotate, translate, scale",
      "t.yaml:9:3 UNKNOWN_TRAINING_KEY unknown group of training settings 'early_stop' (the groups are early_stopping, checkpoint, augment) | did you mean 'early_stopping'?",
      "t.yaml:10:3 UNKNOWN_TRAINING_KEY unknown group of training settings 'augmentation' (the groups are early_stopping, checkpoint, augment) | did you mean 'augment'?",
    ]);
  });

  it('bad values, at the value, with the expected form from the table', () => {
    const text = yaml(
      [
        '  epochs: 0',
        '  lr: 0',
        '  batch_size: 2.5',
        '  optimizer: adma',
        '  momentum: 1',
        '  nesterov: "true"',
        '  eval_every: never',
        '  data: ""',
        '  augment: {crop_padding: "2", scale: 0.5}',
      ].join('\n'),
    );
    expect(diags('t.yaml', { 't.yaml': text })).toEqual([
      "t.yaml:7:11 TRAINING_VALUE training setting 'epochs': expected an integer >= 1, found 0",
      "t.yaml:8:7 TRAINING_VALUE training setting 'lr': expected a number > 0, found 0",
      "t.yaml:9:15 TRAINING_VALUE training setting 'batch_size': expected an integer >= 1, found 2.5",
      "t.yaml:10:14 TRAINING_VALUE training setting 'optimizer': expected one of sgd, momentum, adam, adamw, found 'adma' | did you mean 'adam'?",
      "t.yaml:11:13 TRAINING_VALUE training setting 'momentum': expected a number >= 0 and < 1, found 1",
      "t.yaml:12:13 TRAINING_VALUE training setting 'nesterov': expected true or false, found 'true' | write nesterov: true",
      "t.yaml:13:15 TRAINING_VALUE training setting 'eval_every': expected an integer >= 0 or epoch, found 'never'",
      "t.yaml:14:9 TRAINING_VALUE training setting 'data': expected a string, found ''",
      "t.yaml:15:27 TRAINING_VALUE training setting 'augment.crop_padding': expected an integer >= 0, found '2' | write crop_padding: 2",
      "t.yaml:15:39 TRAINING_VALUE training setting 'augment.scale': expected a number >= 0 and < 0.5, found 0.5",
    ]);
  });

  it('a group given a value and a value given as a group', () => {
    const text = yaml('  early_stopping: 3\n  augment: true\n  lr: {x: 1}\n  epochs: {}');
    expect(diags('t.yaml', { 't.yaml': text })).toEqual([
      "t.yaml:7:3 TRAINING_GROUP 'early_stopping' is a group of training settings (monitor, mode, patience, min_delta), not a value | write early_stopping: {patience: 3}",
      "t.yaml:8:3 TRAINING_GROUP 'augment' is a group of training settings (crop_padding, hflip, rotate, translate, scale), not a value | write augment: {hflip: true}",
      "t.yaml:9:3 TRAINING_GROUP 'lr' is a training setting, not a group of settings | write lr: 0.005",
      "t.yaml:10:3 TRAINING_GROUP 'epochs' is a training setting, not a group of settings | write epochs: 5",
    ]);
  });

  it('a key given twice in YAML is the loader’s YAML_DUPLICATE_KEY', () => {
    expect(diags('t.yaml', { 't.yaml': yaml('  lr: 0.1\n  epochs: 2\n  lr: 0.2') })).toEqual([
      "t.yaml:9:3 YAML_DUPLICATE_KEY duplicate key 'lr'",
    ]);
  });
});

describe('training settings: diagnostics with positions (DSL), hints in DSL', () => {
  it('unknown keys, bad values, groups and values mixed up, keys and groups given twice', () => {
    const text = net(
      [
        '    learning_rate = 0.1',
        '    patience = 3',
        '    lr = "0.01"',
        '    lr = 0.02',
        '    optimizer = "adma"',
        '    epochs = 0',
        '    early_stopping = 3',
        '    lr_gamma { x = 1 }',
        '    augment { hflip = 1; top_k = 2 }',
        '    augment { rotate = 5 }',
        '    checkpoint { monitor = "dev_loss"; monitor = "dev_accuracy" }',
      ].join('\n'),
    );
    expect(diags('t.net', { 't.net': text })).toEqual([
      "t.net:5:5 UNKNOWN_TRAINING_KEY unknown training setting 'learning_rate' | netspec calls it lr: write lr = 0.1",
      "t.net:6:5 UNKNOWN_TRAINING_KEY unknown training setting 'patience' | netspec calls it early_stopping.patience: write early_stopping { patience = 3 }",
      "t.net:7:10 TRAINING_VALUE training setting 'lr': expected a number > 0, found '0.01' | write lr = 0.01",
      "t.net:8:5 DUPLICATE_TRAINING_KEY duplicate training setting 'lr' (first given at 7:5) | give each setting once",
      "t.net:9:17 TRAINING_VALUE training setting 'optimizer': expected one of sgd, momentum, adam, adamw, found 'adma' | did you mean 'adam'?",
      "t.net:10:14 TRAINING_VALUE training setting 'epochs': expected an integer >= 1, found 0",
      "t.net:11:5 TRAINING_GROUP 'early_stopping' is a group of training settings (monitor, mode, patience, min_delta), not a value | write early_stopping { patience = 3 }",
      "t.net:12:5 TRAINING_GROUP 'lr_gamma' is a training setting, not a group of settings | write lr_gamma = 0.1",
      "t.net:13:23 TRAINING_VALUE training setting 'augment.hflip': expected true or false, found 1",
      "t.net:13:26 UNKNOWN_TRAINING_KEY unknown augment setting 'top_k' | it belongs to checkpoint: write checkpoint { top_k = 2 }",
      "t.net:14:5 DUPLICATE_TRAINING_KEY duplicate group 'augment' (first given at 13:5) | put all its settings in the first one",
      "t.net:15:40 DUPLICATE_TRAINING_KEY duplicate training setting 'checkpoint.monitor' (first given at 15:18) | give each setting once",
    ]);
  });
});

describe('training settings: extends', () => {
  const base = yaml('  lr: 0.1\n  epochs: 10\n  early_stopping: {monitor: dev_loss, patience: 3}');

  it('a variant inherits the settings and replaces them key by key; origins name each file', () => {
    const child =
      'netspec: 1\nname: c\nextends: ./base.yaml\ntraining:\n  epochs: 2\n  early_stopping: {patience: 5}\n';
    const r = compile('m/child.yaml', { 'm/base.yaml': base, 'm/child.yaml': child });
    expect(r.diagnostics).toEqual([]);
    expect(r.training).toStrictEqual({
      lr: 0.1,
      earlyStopMonitor: 'dev_loss',
      epochs: 2,
      earlyStopPatience: 5,
    });
    expect(r.trainingOrigins).toStrictEqual({
      lr: 'm/base.yaml:7',
      earlyStopMonitor: 'm/base.yaml:9',
      epochs: 'm/child.yaml:5',
      earlyStopPatience: 'm/child.yaml:6',
    });
    // A variant without a section takes the base's as it is.
    const bare = compile('m/bare.yaml', {
      'm/base.yaml': base,
      'm/bare.yaml': 'netspec: 1\nname: b\nextends: ./base.yaml\n',
    });
    expect(bare.training).toStrictEqual({
      lr: 0.1,
      epochs: 10,
      earlyStopMonitor: 'dev_loss',
      earlyStopPatience: 3,
    });
  });

  for (const ext of ['yaml', 'net'])
    it(`specs/resnet18-plain.${ext} gets resnet18’s training settings, its IR unchanged by them`, () => {
      const base = compile(`specs/resnet18.${ext}`);
      const plain = compile(`specs/resnet18-plain.${ext}`);
      expect(plain.diagnostics).toEqual([]);
      expect(Object.keys(base.training).length).toBeGreaterThan(0);
      expect(plain.training).toStrictEqual(base.training);
      expect(plain.trainingOrigins).toStrictEqual(base.trainingOrigins);
      expect(plain.trainingOrigins.lr).toMatch(new RegExp(`^specs/resnet18\\.${ext}:\\d+$`));
      const bare = compile(`specs/resnet18-plain.${ext}`, {
        [`specs/resnet18.${ext}`]: withoutSection(`specs/resnet18.${ext}`),
      });
      expect(bare.training).toStrictEqual({});
      expect(serializeIr(plain.ir!)).toBe(serializeIr(bare.ir!));
    });

  it('a DSL variant of a YAML base: each problem in its own file, hinted in that file’s syntax', () => {
    const badBase = yaml('  learning_rate: 0.1');
    const child = 'network c extends "base.yaml" {\n  training { patience = 2 }\n}\n';
    expect(diags('m/child.net', { 'm/base.yaml': badBase, 'm/child.net': child })).toEqual([
      "m/base.yaml:7:3 UNKNOWN_TRAINING_KEY unknown training setting 'learning_rate' | netspec calls it lr: write lr: 0.1",
      "m/child.net:2:14 UNKNOWN_TRAINING_KEY unknown training setting 'patience' | netspec calls it early_stopping.patience: write early_stopping { patience = 2 }",
    ]);
  });

  it('a key the child gives replaces the base’s, even one the base got wrong', () => {
    const child = 'netspec: 1\nname: c\nextends: ./base.yaml\ntraining:\n  epochs: 3\n';
    const r = compile('m/child.yaml', {
      'm/base.yaml': yaml('  epochs: 0\n  lr: 0.1'),
      'm/child.yaml': child,
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.training).toStrictEqual({ lr: 0.1, epochs: 3 });
  });
});

describe('training settings: --set training.<key>=<value>', () => {
  const spec = { 't.yaml': yaml('  lr: 0.1\n  early_stopping: {patience: 3}') };

  it('parses with the table, applies after the spec, and says it came from --set', () => {
    const r = compile('t.yaml', spec, {
      set: [
        'training.lr=0.01',
        'training.early_stopping.patience=5',
        'training.eval_every=epoch',
        'training.nesterov=true',
      ],
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.training).toStrictEqual({ lr: 0.01, earlyStopPatience: 5, evalSteps: 'epoch', nesterov: true });
    expect(r.trainingOrigins).toStrictEqual({
      lr: '--set',
      earlyStopPatience: '--set',
      evalSteps: '--set',
      nesterov: '--set',
    });
  });

  it('works beside network parameters (each kind of --set to its own parser)', () => {
    const r = compile('specs/lenet5.yaml', {}, { set: ['training.epochs=2', 'num_classes=3'] });
    expect(r.diagnostics).toEqual([]);
    expect(r.training.epochs).toBe(2);
    expect(r.trainingOrigins.epochs).toBe('--set');
    expect(r.ir?.nodes.at(-1)?.outputShape).toEqual([3]);
  });

  it('reports at the --set source: the line of the assignment, the column of the key or value', () => {
    const set = [
      'num_classes=3',
      'training.lr=0',
      'training.patience=5',
      'training.early_stopping=3',
      'training.lr.x=1',
      'training.optimizer=adma',
      'training.=1',
      'training.epochs',
      'training.learning_rate=0.1',
    ];
    expect(diags('t.yaml', spec, { set })).toEqual([
      "--set:1:1 SET_UNKNOWN_PARAMETER --set: the network has no parameter 'num_classes'",
      "--set:2:13 TRAINING_VALUE --set: training setting 'lr': expected a number > 0, found 0",
      "--set:3:10 UNKNOWN_TRAINING_KEY --set: unknown training setting 'patience' | netspec calls it early_stopping.patience: write --set training.early_stopping.patience=5",
      "--set:4:10 TRAINING_GROUP --set: 'early_stopping' is a group of training settings (monitor, mode, patience, min_delta), not a value | write --set training.early_stopping.patience=3",
      "--set:5:10 TRAINING_GROUP --set: 'lr' is a training setting, not a group of settings | write --set training.lr=0.005",
      "--set:6:20 TRAINING_VALUE --set: training setting 'optimizer': expected one of sgd, momentum, adam, adamw, found 'adma' | did you mean 'adam'?",
      "--set:7:1 SET_SYNTAX --set expects training.<key>=<value>, found 'training.=1' | for example --set training.lr=0.01 or --set training.early_stopping.patience=5",
      "--set:8:1 SET_SYNTAX --set expects training.<key>=<value>, found 'training.epochs' | for example --set training.lr=0.01 or --set training.early_stopping.patience=5",
      "--set:9:10 UNKNOWN_TRAINING_KEY --set: unknown training setting 'learning_rate' | netspec calls it lr: write --set training.lr=0.1",
    ]);
  });
});

describe('writeSetting: hints in each syntax', () => {
  it('writes a value, a group member and a --set', () => {
    expect(writeSetting('yaml', 'lr', 0.001)).toBe('lr: 0.001');
    expect(writeSetting('dsl', 'lr', 0.001)).toBe('lr = 0.001');
    expect(writeSetting('yaml', 'early_stopping.monitor', 'dev_loss')).toBe(
      'early_stopping: {monitor: dev_loss}',
    );
    expect(writeSetting('dsl', 'early_stopping.monitor', 'dev_loss')).toBe(
      'early_stopping { monitor = "dev_loss" }',
    );
    expect(writeSetting('yaml', 'early_stopping.monitor', 'dev_loss', 'early_stopping')).toBe(
      'monitor: dev_loss',
    );
    expect(writeSetting('yaml', 'data', 'idx:/x y')).toBe('data: "idx:/x y"');
    expect(writeSetting('yaml', 'data', 'true')).toBe('data: "true"');
    expect(writeSetting('set', 'augment.hflip', true)).toBe('--set training.augment.hflip=true');
  });
});

describe('training settings: hostile input', () => {
  it('a section of 20,000 unknown keys: the first 100 problems in order, then TOO_MANY_ERRORS', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: ${i}`).join('\n');
    const start = performance.now();
    const r = compile('h.yaml', { 'h.yaml': yaml(keys) });
    expect(performance.now() - start).toBeLessThan(5000);
    expect(r.ir).toBeUndefined();
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics.slice(0, 100).map((d) => d.span?.line)).toEqual(
      Array.from({ length: 100 }, (_, i) => 7 + i),
    );
    expect(r.diagnostics.at(-1)?.code).toBe('TOO_MANY_ERRORS');
  });
});
