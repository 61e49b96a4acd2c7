/**
 * The editor JSON Schema (schema/netspec.schema.json, from src/parser/schema/editor-schema.ts): the committed file
 * is what the generator writes now; every spec the compiler accepts validates with plain ajv; what it flags, the
 * compiler refuses too (except its two naming rules, tested as such); and what only `netspec check` can tell is
 * accepted, as docs/editors.md says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { editorSchemaText } from '../../scripts/editor-schema.js';
import { LAYERS, MERGES } from '../../src/compiler/ops/index.js';
import {
  BLOCK_NAME_PATTERN,
  EDITOR_SCHEMA_PATH,
  EXPRESSION_PATTERN,
  PARAM_CALLEE_PATTERN,
  editorSchema,
  type JsonSchema,
} from '../../src/parser/schema/editor-schema.js';
import { isExpressionText } from '../../src/parser/yaml/build-ast.js';
import { DEFAULT_TRAINING, TRAINING_SETTINGS } from '../../src/training-settings.js';
import { compile } from '../support/compile.js';

const schema = editorSchema();
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** ajv's errors for `data` ([] when it validates). */
function errorsOf(data: unknown): ErrorObject[] {
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

/** `instancePath keyword params`, one line per error, for readable failures. */
function shown(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.keyword} ${JSON.stringify(e.params)}`).join('\n');
}

/** True when the compiler refuses the spec `text` (an error diagnostic, so no IR). */
function compilerRefuses(text: string): boolean {
  return compile('mem/spec.yaml', { 'mem/spec.yaml': text }).ir === undefined;
}

/** Every YAML file under `dir`, relative to the repository root, sorted. */
function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

/** A small network with `item` first in the module `stem` (error paths: /modules/0/stem/0). */
function withItem(item: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    netspec: 1,
    name: 'forms',
    params: { width: 8 },
    input: [3, 16, 16],
    blocks: {
      Res: { params: { out: 'int' }, body: [{ conv: { out: '$out', kernel: 3, padding: 1 } }, 'relu'] },
    },
    modules: [{ stem: [item, { Res: 8 }] }, { head: ['global_avgpool', 'flatten', { linear: 10 }] }],
    ...extra,
  };
}

/** The same network with `item` first in the body of block Res (error paths: /blocks/Res/body/0). */
function withBlockItem(item: unknown): Record<string, unknown> {
  const spec = withItem('relu');
  spec.blocks = { Res: { params: { out: 'int' }, body: [item, { conv: { out: '$out', kernel: 1 } }] } };
  return spec;
}

describe('schema/netspec.schema.json', () => {
  it('is editorSchema() as the generator writes it (after changing a layer or setting: run npm run generate)', async () => {
    const committed = fs.existsSync(EDITOR_SCHEMA_PATH) ? fs.readFileSync(EDITOR_SCHEMA_PATH, 'utf8') : '';
    expect(committed, `${EDITOR_SCHEMA_PATH} is out of date: run npm run generate`).toBe(
      await editorSchemaText(),
    );
  });

  it('is a valid draft-07 schema: ajv compiles it in strict mode, the editor annotations declared', () => {
    // strictRequired is off for the top level's anyOf of `required` lists, as in the structural schema's check.ts.
    const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true });
    for (const keyword of ['markdownDescription', 'patternErrorMessage', 'enumDescriptions'])
      ajv.addKeyword({ keyword, schemaType: keyword === 'enumDescriptions' ? 'array' : 'string' });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toMatch(/^https:\/\//);
    expect(schema.title).toBeTruthy();
  });

  it('is what editors/vscode/package.json validates YAML specs with', () => {
    const manifest = JSON.parse(fs.readFileSync('editors/vscode/package.json', 'utf8')) as {
      contributes: { yamlValidation: { url: string }[] };
    };
    const urls = manifest.contributes.yamlValidation.map((v) => path.resolve('editors/vscode', v.url));
    expect(urls).toEqual([path.resolve(EDITOR_SCHEMA_PATH)]);
  });

  it('describes every property it declares', () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'properties' || key === 'definitions') && typeof value === 'object' && value !== null)
          for (const [name, sub] of Object.entries(value as JsonSchema)) {
            const s = sub as JsonSchema;
            if (typeof s.description !== 'string' && typeof s.$ref !== 'string')
              missing.push(`${where}/${name}`);
          }
        walk(value, `${where}/${key}`);
      }
    };
    walk(schema, '');
    expect(missing).toEqual([]);
  });

  it('holds every layer kind and merge with each argument, its doc line and Markdown', () => {
    const defs = schema.definitions as Record<string, JsonSchema>;
    for (const [prefix, table] of [
      ['layer', LAYERS],
      ['merge', MERGES],
    ] as const)
      for (const d of Object.values(table)) {
        const def = defs[`${prefix}.${d.name}`];
        expect(def, d.name).toBeDefined();
        expect(def?.description).toContain(d.doc);
        expect(def?.markdownDescription).toContain(`**${d.name}**`);
        const text = JSON.stringify(def);
        for (const a of d.args) {
          expect(text, `${d.name}.${a.name}`).toContain(`"${a.name}":{"description":"${a.doc}`);
        }
      }
  });

  it('gives every default a value its own schema accepts', () => {
    const ajv = new Ajv({ strict: false });
    const found: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      const s = node as JsonSchema;
      if ('default' in s && !JSON.stringify(s).includes('$ref')) {
        found.push(where);
        expect(ajv.validate(s, s.default), `${where}: ${JSON.stringify(s.default)}`).toBe(true);
      }
      for (const [key, value] of Object.entries(s)) walk(value, `${where}/${key}`);
    };
    walk(schema, '');
    // Every training setting has one, and so does every argument with a written default (stride: the kernel has none).
    const argDefaults = [...Object.values(LAYERS), ...Object.values(MERGES)]
      .flatMap((d) => d.args)
      .filter((a) => a.default !== undefined && a.default !== 'kernel').length;
    expect(found.length).toBeGreaterThanOrEqual(TRAINING_SETTINGS.length + argDefaults);
  });

  it("reads expressions as the YAML front end does (isExpressionText: '$', '(' or '-' before one)", () => {
    const re = new RegExp(EXPRESSION_PATTERN, 'u');
    for (const s of [
      '$out',
      '$out * 2',
      '($a + 1) * 2',
      '-$pad',
      '-(1 + $a)',
      'same',
      'out',
      '3',
      '-3',
      '',
      ' $a',
    ])
      expect(re.test(s), s).toBe(isExpressionText(s));
  });

  it('tells block names and $param callees apart from every layer kind and merge', () => {
    for (const k of [...Object.keys(LAYERS), ...Object.keys(MERGES)]) {
      expect(new RegExp(BLOCK_NAME_PATTERN, 'u').test(k), k).toBe(false);
      expect(new RegExp(PARAM_CALLEE_PATTERN, 'u').test(k), k).toBe(false);
    }
  });
});

// Fixtures the compiler refuses, by what the editor schema makes of them. A new one fails the test until it is
// placed here.
const FIXTURES = 'test/fixtures/diagnostics';
/** The schema flags them too (and where). */
const FLAGGED: Record<string, string> = {
  'extends-not-a-spec/spec.yaml': '/extends pattern',
  'non-positive/spec.yaml': '/modules/0/features/0/conv/out minimum',
  'padding-same/spec.yaml': '/modules/0/stem/4/conv/padding anyOf',
  'pytorch-names/spec.yaml': '/modules/0/stem/0/conv additionalProperties',
  'training-unknown-key/spec.yaml': '/training additionalProperties',
  'unknown-argument/spec.yaml': '/modules/0/features/0/conv additionalProperties',
  'unknown-layer/spec.yaml': '/modules/0/features/0 additionalProperties',
  'wrong-type/spec.yaml': '/modules/0/features/0/conv/kernel pattern',
  'yaml-bom/spec.yaml': ' additionalProperties',
  'yaml-merge-key/spec.yaml': '/modules/0/features/1/conv additionalProperties',
  'yaml-modules-map/spec.yaml': '/modules type',
  'yaml-unknown-key/spec.yaml': ' additionalProperties',
};
/** Only the compiler can tell: shapes, sizes, names declared twice, parameters, other files, 4.0 written for 4. */
const COMPILER_ONLY = [
  'activation-too-large/spec.yaml',
  'duplicate-names/spec.yaml',
  'extends-cycle/other.yaml',
  'extends-cycle/spec.yaml',
  'kernel-too-large/spec.yaml',
  'linear-not-flat/spec.yaml',
  'merge-mismatch-stages/spec.yaml',
  'not-integer-literal/spec.yaml',
  'too-many-params/spec.yaml',
  'unknown-parameter/spec.yaml',
];
/** Not the data netspec reads: YAML errors plain YAML refuses too, and a YAML 1.1 document (netspec refuses it). */
const NOT_READ = [
  'yaml-duplicate-key/spec.yaml',
  'yaml-indentation/spec.yaml',
  'yaml-second-document/spec.yaml',
  'yaml-syntax/spec.yaml',
  'yaml-version/spec.yaml',
];

describe('the repository YAML specs', () => {
  const files = [...yamlFiles('specs'), ...yamlFiles('test/fixtures')];
  const accepted = files.filter((f) => compile(f).ir !== undefined);

  it('include every canonical spec and the accepted fixtures', () => {
    expect(accepted).toEqual(expect.arrayContaining(yamlFiles('specs')));
    expect(accepted.length).toBeGreaterThan(yamlFiles('specs').length + 5);
  });

  it.each(accepted)('%s (accepted by the compiler) validates', (file) => {
    const errors = errorsOf(parse(fs.readFileSync(file, 'utf8')));
    expect(shown(errors)).toBe('');
  });

  it('every fixture the compiler refuses is classified', () => {
    const refused = files.filter((f) => !accepted.includes(f)).map((f) => path.relative(FIXTURES, f));
    expect(refused.sort()).toEqual([...Object.keys(FLAGGED), ...COMPILER_ONLY, ...NOT_READ].sort());
  });

  it.each(Object.entries(FLAGGED))('%s is flagged at %s', (file, where) => {
    const errors = errorsOf(parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')));
    expect(errors.map((e) => `${e.instancePath} ${e.keyword}`)).toContain(where);
  });

  it.each(COMPILER_ONLY)('%s passes: only netspec check finds its error', (file) => {
    expect(shown(errorsOf(parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))))).toBe('');
  });

  it.each(NOT_READ)('%s is not read as netspec reads it', (file) => {
    const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
    if (text.startsWith('%YAML 1.1')) return; // plain YAML reads 1.1 (bias: on is true); netspec refuses it
    expect(() => parse(text) as unknown).toThrow();
  });
});

/** Every form the YAML front end accepts, in one spec the compiler compiles. */
const FORMS = `
netspec: 1
name: forms
params: {width: 8, act: relu, residual: true, init: normal, k: 3, pad: 1}
input: [3, $k * 4 + 4, 16]
blocks:
  Res:
    params: {out: int, stride: 1, hidden: $out * 2}
    body:
      - conv: {name: conv1, out: $hidden, kernel: 3, stride: $stride, padding: $pad, bias: false}
      - batchnorm:
      - $act
      - conv: {name: conv2, out: $out, kernel: [3, $k], padding: [1, 1], dilation: 1, groups: 1}
    shortcut:
      when: shape_changes
      layers: [conv: {out: $out, kernel: 1, stride: $stride}, batchnorm]
    merge: add
    residual: $residual
    after: [relu]
  Skip:
    params: {growth: 8, kind: list, keep: bool}
    body:
      - conv: {name: down, out: $growth, kernel: 1}
      - relu
      - concat:
          name: cat
          dim: 1
          deep: [conv: {out: $growth, kernel: 3, padding: same}]
          skip: [identity: {from: down}]
          input: []
      - add:
          if: $keep
          a:
            - conv: {out: $growth * 3, kernel: 1}
            - mul:
                x: []
                gate: [global_avgpool, sigmoid]
          b: []
      - $act:
      - $act: {name: act2}
modules:
  - stem:
      - conv: {out: $width, kernel: $k, padding: same}
      - batchnorm: {eps: 0.001, momentum: 0.1, affine: true}
      - relu
      - maxpool: 2
      - Res: $width
      - Res: {out: 16, repeat: 2}
      - Res: {name: down, out: 16, stride: 2}
      - Skip: {kind: [1, 2], keep: true}
      - Skip: {name: skip2, growth: 4, kind: [$width, k], keep: $residual, if: $residual}
      - conv: {out: 8, kernel: 1, repeat: $k - 3}
      - avgpool: {kernel: 2, stride: 1, padding: valid, ceil_mode: true}
      - channel_shuffle: 2
      - slice: {start: 0, end: -1, dim: 1}
      - chunk: {chunks: 2, index: 0}
      - adaptive_avgpool: [2, 2]
      - leaky_relu: {slope: 0.2}
      - elu: 1
      - stochastic_depth: {p: 0.1}
  - tokens:
      - reshape: [2, -1]
      - layernorm: {dim: -1}
      - attention: {heads: 2, dropout: 0.0}
      - permute: {dims: [0, 2, 1]}
      - select: {dim: 2, index: -1}
      - reshape: {shape: -1}
  - head:
      - flatten
      - parameter: {shape: [4], init: $init, std: 0.02}
      - linear: {out: 10, bias: false}
      - dropout: 0.5
      - linear: $width
training:
  optimizer: adamw
  lr: 0.001
  eval_every: epoch
  log_every: 10
  early_stopping: {monitor: dev_loss, patience: 3}
  augment:
    hflip: true
    rotate: 10
`;

describe('the YAML forms', () => {
  it('every form the front end accepts validates (and the compiler compiles the spec)', () => {
    const result = compile('mem/forms.yaml', { 'mem/forms.yaml': FORMS });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(shown(errorsOf(parse(FORMS)))).toBe('');
  });

  it('a variant that extends a spec needs no input or modules', () => {
    expect(
      errorsOf({ netspec: 1, name: 'plain', extends: './resnet18.yaml', params: { residual: false } }),
    ).toEqual([]);
    expect(errorsOf({ netspec: 1, name: 'nothing' }).map((e) => e.keyword)).toContain('anyOf');
  });

  it('expressions are accepted wherever a value goes: $out * 2, ($a + 1) * 2, -$pad, [$k, 3]', () => {
    for (const value of ['$width * 2', '($width + 1) * 2', '-$width', '$in.channels // 4'])
      expect(
        shown(errorsOf(withItem({ conv: { out: value, kernel: ['$width', 3], bias: '$width > 4' } }))),
      ).toBe('');
  });

  it('the whole training table with its defaults validates', () => {
    const training: Record<string, unknown> = {};
    for (const def of TRAINING_SETTINGS) {
      const [group, member] = def.key.split('.');
      const value = DEFAULT_TRAINING[def.field];
      if (member === undefined) training[def.key] = value;
      else training[group as string] = { ...(training[group as string] as object), [member]: value };
    }
    expect(shown(errorsOf(withItem('relu', { training })))).toBe('');
  });
});

/** [what, spec data, `instancePath keyword`, params the error must have] */
type Flagged = readonly [string, Record<string, unknown>, string, Record<string, unknown>?];

const FLAGGED_CASES: readonly Flagged[] = [
  [
    'an unknown kind conv2d',
    withItem({ conv2d: { out: 8, kernel: 3 } }),
    '/modules/0/stem/0 additionalProperties',
    { additionalProperty: 'conv2d' },
  ],
  ['a bare unknown kind', withItem('conv2d'), '/modules/0/stem/0 enum'],
  [
    'a misspelt argument kernal',
    withItem({ conv: { out: 8, kernel: 3, kernal: 3 } }),
    '/modules/0/stem/0/conv additionalProperties',
    { additionalProperty: 'kernal' },
  ],
  [
    'a string for an int',
    withItem({ conv: { out: 'abc', kernel: 3 } }),
    '/modules/0/stem/0/conv/out pattern',
  ],
  ['a list for an int', withItem({ conv: { out: [8], kernel: 3 } }), '/modules/0/stem/0/conv/out type'],
  [
    'a number below the minimum',
    withItem({ conv: { out: 0, kernel: 3 } }),
    '/modules/0/stem/0/conv/out minimum',
    { limit: 1 },
  ],
  ['a probability above 1', withItem({ dropout: { p: 1.5 } }), '/modules/0/stem/0/dropout/p maximum'],
  [
    'an epsilon of 0',
    withItem({ batchnorm: { eps: 0 } }),
    '/modules/0/stem/0/batchnorm/eps exclusiveMinimum',
  ],
  [
    'a positional p of 1 (p < 1)',
    withItem({ stochastic_depth: 1 }),
    '/modules/0/stem/0/stochastic_depth exclusiveMaximum',
  ],
  ['a kind with required arguments alone', withItem('conv'), '/modules/0/stem/0 enum'],
  ['a positional argument where two are required', withItem({ conv: 8 }), '/modules/0/stem/0/conv type'],
  ['nothing where an argument is required', withItem({ linear: null }), '/modules/0/stem/0/linear type'],
  [
    'a required argument left out',
    withItem({ conv: { out: 8 } }),
    '/modules/0/stem/0/conv required',
    { missingProperty: 'kernel' },
  ],
  ['a value for a kind without arguments', withItem({ relu: 3 }), '/modules/0/stem/0/relu type'],
  [
    'a merge in a module',
    withItem({ concat: { a: ['relu'], b: [] } }),
    '/modules/0/stem/0 additionalProperties',
    { additionalProperty: 'concat' },
  ],
  [
    'branches on a layer',
    withItem({ conv: { out: 8, kernel: 3, a: ['relu'] } }),
    '/modules/0/stem/0/conv additionalProperties',
    { additionalProperty: 'a' },
  ],
  [
    'a padding word misspelt',
    withItem({ maxpool: { kernel: 2, padding: 'sane' } }),
    '/modules/0/stem/0/maxpool/padding anyOf',
  ],
  [
    'one int where a list of 2 to 4 goes',
    withItem({ permute: { dims: 2 } }),
    '/modules/0/stem/0/permute/dims type',
  ],
  [
    'a kernel of three sizes',
    withItem({ conv: { out: 8, kernel: [3, 3, 3] } }),
    '/modules/0/stem/0/conv/kernel maxItems',
  ],
  [
    'a negative repeat',
    withItem({ conv: { out: 8, kernel: 3, repeat: -1 } }),
    '/modules/0/stem/0/conv/repeat minimum',
  ],
  [
    'a choice misspelt',
    withItem({ parameter: { shape: [4], init: 'random' } }),
    '/modules/0/stem/0/parameter/init anyOf',
  ],
  [
    'branches on a block call',
    withItem({ Res: { out: 8, a: [{ conv: { out: 1, kernel: 1 } }] } }),
    '/modules/0/stem/0/Res/a/0 type',
  ],
  [
    'an argument add does not take',
    withBlockItem({ add: { a: ['relu'], b: [], dim: 1 } }),
    '/blocks/Res/body/0/add/dim type',
  ],
  [
    'an empty list for a block parameter (read as a branch)',
    withItem({ Res: { out: 8, l: [] } }),
    '/modules/0/stem/0/Res/l minItems',
  ],
  [
    'a list of names for a block parameter (read as a branch)',
    withItem({ Res: { out: 8, l: ['a', 'b'] } }),
    '/modules/0/stem/0/Res/l contains',
  ],
  [
    'a layer named by an outer key (name: {conv: ...} is no form)',
    withItem({ name: { conv: { out: 8, kernel: 3 } } }),
    '/modules/0/stem/0 additionalProperties',
    { additionalProperty: 'name' },
  ],
  [
    'residual without merge',
    { ...withItem('relu'), blocks: { Res: { params: { out: 'int' }, body: ['relu'], residual: true } } },
    '/blocks/Res dependencies',
  ],
  ['an input size of 0', withItem('relu', { input: [3, 0, 16] }), '/input/1 minimum'],
  ['an input of four axes', withItem('relu', { input: [1, 3, 16, 16] }), '/input maxItems'],
  ['a network name with ..', withItem('relu', { name: 'a..b' }), '/name pattern'],
  [
    'a misspelt top-level key',
    withItem('relu', { trainig: { lr: 0.1 } }),
    ' additionalProperties',
    { additionalProperty: 'trainig' },
  ],
  ['a word for the learning rate', withItem('relu', { training: { lr: 'fast' } }), '/training/lr type'],
  ['a learning rate of 0', withItem('relu', { training: { lr: 0 } }), '/training/lr exclusiveMinimum'],
  [
    'an unknown training key',
    withItem('relu', { training: { learning_rate: 0.1 } }),
    '/training additionalProperties',
    { additionalProperty: 'learning_rate' },
  ],
  [
    'a misspelt group key',
    withItem('relu', { training: { early_stopping: { patiense: 3 } } }),
    '/training/early_stopping additionalProperties',
  ],
  [
    'a group given a value',
    withItem('relu', { training: { early_stopping: 3 } }),
    '/training/early_stopping type',
  ],
  ['a cadence word', withItem('relu', { training: { eval_every: 'weekly' } }), '/training/eval_every anyOf'],
  [
    'an unknown optimizer',
    withItem('relu', { training: { optimizer: 'rmsprop' } }),
    '/training/optimizer enum',
  ],
  ['modules as a map', { ...withItem('relu'), modules: { stem: ['relu'] } }, '/modules type'],
];

describe('what the editor schema flags, the compiler refuses too', () => {
  it.each(FLAGGED_CASES)('%s', (_what, data, where, params) => {
    const errors = errorsOf(data);
    const at = errors.filter((e) => `${e.instancePath} ${e.keyword}` === where);
    expect(at.length, `no '${where}' in\n${shown(errors)}`).toBeGreaterThan(0);
    if (params) expect(at.map((e) => e.params)).toContainEqual(expect.objectContaining(params));
    expect(compilerRefuses(stringify(data))).toBe(true);
  });

  it('the unflagged base network compiles and validates', () => {
    expect(compilerRefuses(stringify(withItem('relu')))).toBe(false);
    expect(errorsOf(withItem('relu'))).toEqual([]);
  });
});

describe("the schema's own rules (the compiler accepts these)", () => {
  it('a block name starts with an uppercase letter, declared and called', () => {
    const spec = withItem('relu');
    spec.blocks = { res: { params: { out: 'int' }, body: [{ conv: { out: '$out', kernel: 1 } }] } };
    spec.modules = [{ stem: [{ res: 8 }] }, { head: ['global_avgpool', 'flatten', { linear: 10 }] }];
    expect(compilerRefuses(stringify(spec))).toBe(false);
    const errors = errorsOf(spec);
    expect(errors.map((e) => `${e.instancePath} ${e.keyword}`)).toEqual(
      expect.arrayContaining(['/blocks propertyNames', '/modules/0/stem/0 additionalProperties']),
    );
  });

  it('a merge is not repeated (the YAML front end refuses its repeat: too)', () => {
    const errors = errorsOf(withBlockItem({ concat: { a: ['relu'], b: [], repeat: 2 } }));
    expect(errors.map((e) => `${e.instancePath} ${e.keyword}`)).toContain(
      '/blocks/Res/body/0/concat/repeat type',
    );
  });

  it('a layer chosen by a parameter is written $act, not act', () => {
    const spec = withItem('act', { params: { act: 'relu' } });
    expect(compilerRefuses(stringify(spec))).toBe(false);
    expect(errorsOf(spec).map((e) => `${e.instancePath} ${e.keyword}`)).toContain('/modules/0/stem/0 enum');
    expect(errorsOf(withItem('$act', { params: { act: 'relu' } }))).toEqual([]);
  });
});

describe('what only netspec check can tell passes the schema', () => {
  it.each([
    ['a block that is not declared', withItem({ Resnet: 8 })],
    ['an unknown parameter', withItem({ conv: { out: '$widht', kernel: 3 } })],
    ['a linear layer before flatten (a shape)', withItem({ linear: 10 })],
    ['from outside a block', withItem({ identity: { from: 'x' } })],
    ['a kernel larger than the input', withItem({ conv: { out: 8, kernel: 64 } })],
    ['an expression of the wrong type', withItem({ conv: { out: '$width > 2', kernel: 3 } })],
  ] as const)('%s', (_what, data) => {
    expect(shown(errorsOf(data))).toBe('');
    expect(compilerRefuses(stringify(data))).toBe(true);
  });
});
