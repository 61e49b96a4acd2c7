/**
 * Every layer kind is whole: its definition is consistent, one of the every-kind fixtures holds it (so it has golden
 * report rows in test/fixtures/reports/<fixture>/ and a PyTorch parity case in test/parity/every-kind.test.ts), and
 * the targets spell it wherever it may stand. A kind added to the vocabulary but not to a fixture fails here.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  LAYERS,
  MERGES,
  OP_KINDS,
  opKindOf,
  type LayerDefinition,
  type LayerKind,
} from '../../../src/compiler/ops/index.js';
import { generateTarget } from '../../../src/compiler/targets/index.js';
import { kerasClass, torchClass } from '../../../src/reports/layer-classes.js';
import { compileIr } from '../../support/compile.js';

const FIXTURE = 'test/fixtures/kinds/every-kind.yaml';
/** The token kinds' fixture: tokens [T, E] need a network of their own (a map in, a ViT-like path, a map again). */
const TOKENS_FIXTURE = 'test/fixtures/kinds/every-kind-tokens.yaml';
const FIXTURES = [FIXTURE, TOKENS_FIXTURE];
const PARITY = 'test/parity/every-kind.test.ts';
const ir = compileIr(FIXTURE);
/** Each fixture's nodes with the folder of its golden reports. */
const fixtureNodes = FIXTURES.flatMap((file) => {
  const golden = `test/fixtures/reports/${file.slice(file.lastIndexOf('/') + 1, -'.yaml'.length)}`;
  return compileIr(file).nodes.map((node) => ({ node, golden }));
});
const definitions = Object.entries(LAYERS) as [LayerKind, LayerDefinition][];

describe('layer definitions', () => {
  it.each(definitions)('%s: named by its key, documented, each argument documented and unique', (kind, d) => {
    expect(d.name).toBe(kind);
    expect(d.doc.length).toBeGreaterThan(10);
    const names = d.args.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of d.args) expect(a.doc.length, `${kind}.${a.name}`).toBeGreaterThan(3);
  });

  it('activations are named by their keys; merges too', () => {
    for (const [k, a] of Object.entries(ACTIVATIONS)) expect(a.name).toBe(k);
    for (const [k, m] of Object.entries(MERGES)) expect(m.name).toBe(k);
  });

  it('op kinds are the layer kinds and the merges, each once', () => {
    expect(OP_KINDS).toEqual([...Object.keys(LAYERS), ...Object.keys(MERGES)]);
    expect(new Set(OP_KINDS).size).toBe(OP_KINDS.length);
  });
});

describe('the every-kind fixture covers every op kind', () => {
  it('every op kind occurs, and every layer kind as a module (a row of torchsummary and torchstat)', () => {
    const nodes = fixtureNodes.map((f) => f.node);
    expect([...new Set(nodes.map(opKindOf))].sort()).toEqual([...OP_KINDS].sort());
    // At module level or as a block's submodule: `parameter` only means something merged in a block (ViT's
    // position embedding is added to the tokens), and there it is a module hooks see all the same.
    const modules = new Set(nodes.filter((n) => !n.functional).map(opKindOf));
    expect([...modules].sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('kinds that are functional in blocks occur inside one as well, as functional calls', () => {
    const inside = ir.nodes.filter((n) => n.group !== null && n.functional).map(opKindOf);
    expect(inside).toEqual(expect.arrayContaining(['hardswish', 'identity', 'add', 'relu', 'hardsigmoid']));
  });

  it.each(
    fixtureNodes
      .filter(({ node }) => !node.functional)
      .map((f) => [opKindOf(f.node), f.node.path, f] as const),
  )(
    '%s (%s) has its rows in the golden torchsummary, Keras and torchstat tables',
    (_kind, _path, { node, golden }) => {
      const torchsummary = fs.readFileSync(`${golden}/summary.torchsummary.txt`, 'utf8');
      const keras = fs.readFileSync(`${golden}/summary.keras.txt`, 'utf8');
      const torchstat = fs.readFileSync(`${golden}/stat.torchstat.txt`, 'utf8');
      expect(torchsummary).toMatch(new RegExp(`\\b${torchClass(node)}-\\d+ `));
      expect(keras).toContain(`${node.path} (${kerasClass(node)})`);
      expect(torchstat).toMatch(new RegExp(`\\s${node.path.replace(/\./g, '\\.')}\\s`));
    },
  );

  it('the PyTorch parity test runs these fixtures (and checks there that they hold every op kind)', () => {
    const parity = fs.readFileSync(PARITY, 'utf8');
    for (const file of FIXTURES) expect(parity).toContain(`'${file}'`);
    expect(parity).toContain('OP_KINDS');
  });
});

describe('the targets spell every kind wherever it may stand', () => {
  const functionalKinds = definitions.filter(([, d]) => d.functionalInBlocks).map(([k]) => k);
  /** Arguments for the kinds that require some, fitting the [2, 4, 4] input below. */
  const required: Partial<Record<LayerKind, string>> = {
    chunk: '{chunks: 2, index: 1}',
    slice: '{start: 0, end: 1}',
    channel_shuffle: '{groups: 2}',
  };

  it.each(functionalKinds)('%s inside a block: generated PyTorch and TypeScript', (kind) => {
    const spec = [
      'netspec: 1',
      `name: in-block-${kind}`,
      'input: [2, 4, 4]',
      'blocks:',
      `  B: {body: [${required[kind] ? `${kind}: ${required[kind]}` : kind}]}`,
      'modules:',
      '  - m: [B, flatten, linear: {out: 2}]',
      '',
    ].join('\n');
    const one = compileIr('in-block.yaml', { 'in-block.yaml': spec });
    expect(one.nodes[0]?.functional).toBe(true);
    expect(generateTarget(one, 'pytorch').get('model.py')).toContain('def forward');
    expect(generateTarget(one, 'tfjs').get('model.ts')).toContain('buildModel');
  });
});
