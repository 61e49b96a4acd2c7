/** The training section in both front ends: the same AST from YAML and the DSL, positions, and its syntax errors. */
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/parser/index.js';
import { printDsl } from '../../src/parser/dsl/index.js';
import { stripSpans } from './dsl-test-utils.js';

const YAML = `netspec: 1
name: n
input: [4]
modules:
  - m: [linear: 2]
training:
  lr: 0.001
  optimizer: adam
  eval_every: epoch
  lr_min: -0.5
  nesterov: true
  early_stopping: {monitor: dev_loss, patience: 3}
  augment:
    crop_padding: 2
`;

const DSL = `network n {
  input [4]
  module m { linear(2) }
  training {
    lr = 0.001; optimizer = "adam"; eval_every = "epoch"
    lr_min = -0.5
    nesterov = true
    early_stopping { monitor = "dev_loss"; patience = 3 }
    augment {
      crop_padding = 2
    }
  }
}
`;

/** Diagnostics as `CODE line:col message | hint`. */
function diags(text: string, file: string): string[] {
  return parseSpec(text, file).diagnostics.map(
    (d) => `${d.code} ${d.span?.line ?? 0}:${d.span?.col ?? 0} ${d.message}${d.hint ? ` | ${d.hint}` : ''}`,
  );
}

/** `key@line:col=value@line:col` for each entry. */
function located(text: string, file: string): string[] {
  const training = parseSpec(text, file).ast?.training;
  return (training?.entries ?? []).map(
    (e) =>
      `${e.key}@${e.keySpan.line}:${e.keySpan.col}=${JSON.stringify(e.value)}@${e.valueSpan.line}:${e.valueSpan.col}`,
  );
}

describe('training section: YAML and DSL', () => {
  it('give the same AST modulo spans', () => {
    const yaml = parseSpec(YAML, 'n.yaml');
    const dsl = parseSpec(DSL, 'n.net');
    expect(yaml.diagnostics).toEqual([]);
    expect(dsl.diagnostics).toEqual([]);
    expect(stripSpans(dsl.ast?.training)).toStrictEqual(stripSpans(yaml.ast?.training));
    expect(stripSpans(yaml.ast?.training)).toStrictEqual({
      kind: 'training',
      entries: [
        { key: 'lr', value: 0.001 },
        { key: 'optimizer', value: 'adam' },
        { key: 'eval_every', value: 'epoch' },
        { key: 'lr_min', value: -0.5 },
        { key: 'nesterov', value: true },
        { key: 'early_stopping.monitor', value: 'dev_loss' },
        { key: 'early_stopping.patience', value: 3 },
        { key: 'augment.crop_padding', value: 2 },
      ],
      groups: [
        { kind: 'trainingGroup', key: 'early_stopping' },
        { kind: 'trainingGroup', key: 'augment' },
      ],
    });
  });

  it('locate every key and value (a group member at its own key)', () => {
    expect(located(YAML, 'n.yaml')).toEqual([
      'lr@7:3=0.001@7:7',
      'optimizer@8:3="adam"@8:14',
      'eval_every@9:3="epoch"@9:15',
      'lr_min@10:3=-0.5@10:11',
      'nesterov@11:3=true@11:13',
      'early_stopping.monitor@12:20="dev_loss"@12:29',
      'early_stopping.patience@12:39=3@12:49',
      'augment.crop_padding@14:5=2@14:19',
    ]);
    expect(located(DSL, 'n.net')).toEqual([
      'lr@5:5=0.001@5:10',
      'optimizer@5:17="adam"@5:29',
      'eval_every@5:37="epoch"@5:50',
      'lr_min@6:5=-0.5@6:14',
      'nesterov@7:5=true@7:16',
      'early_stopping.monitor@8:22="dev_loss"@8:32',
      'early_stopping.patience@8:44=3@8:55',
      'augment.crop_padding@10:7=2@10:22',
    ]);
    const group = parseSpec(DSL, 'n.net').ast?.training?.groups[1];
    expect([group?.keySpan.line, group?.keySpan.col, group?.span.line]).toEqual([9, 5, 9]);
  });

  it('reads YAML numbers as YAML 1.2 does (1e-3 is a number) and keeps an empty group', () => {
    const text = YAML.replace('lr: 0.001', 'lr: 1e-3').replace(/ {2}augment:\n.*\n/, '  augment: {}\n');
    const training = parseSpec(text, 'n.yaml').ast?.training;
    expect(training?.entries[0]?.value).toBe(0.001);
    expect(training?.groups.map((g) => g.key)).toEqual(['early_stopping', 'augment']);
    expect(training?.entries.some((e) => e.key.startsWith('augment.'))).toBe(false);
  });

  it('the DSL printer writes the section back, groups in place', () => {
    const ast = parseSpec(DSL, 'n.net').ast;
    if (!ast) throw new Error('no AST');
    const printed = printDsl(ast);
    expect(printed).toContain(
      [
        '  training {',
        '    lr = 0.001',
        '    optimizer = "adam"',
        '    eval_every = "epoch"',
        '    lr_min = -0.5',
        '    nesterov = true',
        '    early_stopping {',
        '      monitor = "dev_loss"',
        '      patience = 3',
        '    }',
        '    augment {',
        '      crop_padding = 2',
        '    }',
        '  }',
      ].join('\n'),
    );
    expect(stripSpans(parseSpec(printed, 'again.net').ast)).toStrictEqual(stripSpans(ast));
    // A YAML-origin AST prints to DSL with the same section.
    const fromYaml = parseSpec(YAML, 'n.yaml').ast;
    if (!fromYaml) throw new Error('no AST');
    expect(stripSpans(parseSpec(printDsl(fromYaml), 'y.net').ast?.training)).toStrictEqual(
      stripSpans(fromYaml.training),
    );
  });

  it('a spec without the section has no training node', () => {
    expect(parseSpec(YAML.replace(/training:[\s\S]*/, ''), 'n.yaml').ast?.training).toBeUndefined();
    expect(parseSpec('network n { input [4] }', 'n.net').ast?.training).toBeUndefined();
  });
});

describe('DSL: training is a soft keyword', () => {
  it('is still a name for parameters, layers, arguments and references', () => {
    const text =
      'network n(training = 1) {\n  input [training]\n  module m { training = linear(2, training = training) }\n}\n';
    const r = parseSpec(text, 'n.net');
    expect(r.diagnostics).toEqual([]);
    expect(r.ast?.params.map((p) => p.name)).toEqual(['training']);
    expect(r.ast?.modules[0]?.items[0]).toMatchObject({ name: 'training', callee: 'linear' });
    expect(r.ast?.training).toBeUndefined();
  });

  it("names 'training' among what may come in a network", () => {
    expect(diags('network n {\n  input [4] )\n}', 'n.net')).toEqual([
      "DSL_SYNTAX 2:13 expected 'input', 'block', 'module', 'training' or '}' but found ')'",
    ]);
  });
});

describe('DSL: syntax of the training section', () => {
  const net = (body: string): string => `network n {\n  input [4]\n  training {\n${body}\n  }\n}\n`;

  it('refuses a bare name as a value, with the quoted form as the hint', () => {
    expect(diags(net('    optimizer = adam\n    early_stopping { monitor = dev_loss }'), 'n.net')).toEqual([
      `DSL_SYNTAX 4:17 a training setting's value is a number, a string, true or false; found the name 'adam' | write optimizer = "adam"`,
      `DSL_SYNTAX 5:32 a training setting's value is a number, a string, true or false; found the name 'dev_loss' | write monitor = "dev_loss"`,
    ]);
  });

  it('refuses an expression as a value', () => {
    expect(diags(net('    lr = 0.1 * 2'), 'n.net')).toEqual([
      "DSL_SYNTAX 4:10 a training setting's value is a number, a string, true or false, not an expression",
    ]);
  });

  it('refuses a second section and a group inside a group', () => {
    const twice = 'network n {\n  input [4]\n  training { lr = 0.1 }\n  training { epochs = 2 }\n}\n';
    expect(diags(twice, 'n.net')).toEqual([
      "DSL_SYNTAX 4:3 duplicate 'training': a network has one training section | put all the settings in the first one",
    ]);
    expect(diags(net('    augment { inner { a = 1 } }'), 'n.net')).toEqual([
      "DSL_SYNTAX 4:21 expected '=' but found '{'",
      // Recovery's echo where the section's closing brace ends the network.
      "DSL_SYNTAX 6:1 expected end of input but found '}'",
    ]);
  });

  it('says what may come inside a section or a group when it is not closed', () => {
    expect(diags('network n {\n  input [4]\n  training {\n    lr = 0.1\n', 'n.net')).toEqual([
      "DSL_SYNTAX 4:13 expected a setting or '}' but found end of input",
    ]);
  });
});

describe('YAML: structure of the training section (the schema)', () => {
  const spec = (body: string): string => `netspec: 1\nname: n\ninput: [4]\nmodules: []\ntraining:\n${body}\n`;

  it('refuses lists, nested groups, empty values and dotted keys, at their position', () => {
    expect(
      diags(
        spec('  lr: [1]\n  augment: {rotate: {x: 1}}\n  epochs:\n  early_stopping.patience: 3'),
        'n.yaml',
      ),
    ).toEqual([
      'WRONG_TYPE 6:7 expected a value (number, boolean or string) or a group (a map of settings), found a list',
      'WRONG_TYPE 7:21 expected number, boolean or string, found a map',
      'WRONG_TYPE 8:10 expected a value (number, boolean or string) or a group (a map of settings), found an empty value',
      "BAD_VALUE 9:3 invalid name 'early_stopping.patience': use letters, digits and _, not starting with a digit",
    ]);
    expect(diags('netspec: 1\nname: n\ninput: [4]\nmodules: []\ntraining: 3\n', 'n.yaml')).toEqual([
      'WRONG_TYPE 5:11 expected map, found integer 3',
    ]);
  });

  it('reports a key given twice (YAML_DUPLICATE_KEY)', () => {
    expect(diags(spec('  lr: 0.1\n  lr: 0.2'), 'n.yaml')).toEqual([
      "YAML_DUPLICATE_KEY 7:3 duplicate key 'lr'",
    ]);
  });
});
