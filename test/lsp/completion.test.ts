/** Completion contexts in half-typed text, which does not parse: the pure functions behind `textDocument/completion`. */
import { describe, expect, it } from 'vitest';
import { dslContext, yamlContext } from '../../src/lsp/completion.js';

/** The context at the `|` of `text` (the bar removed). */
function at(parse: (text: string, offset: number) => unknown, text: string): unknown {
  const offset = text.indexOf('|');
  return parse(text.slice(0, offset) + text.slice(offset + 1), offset);
}

const DSL_HEAD = 'network n(w = 4) {\n  input [1, 8, 8]\n  block B(out: int, s = 1) {\n';

describe('DSL completion contexts while typing', () => {
  it('inside an unclosed call: the callee and the arguments given so far', () => {
    expect(at(dslContext, `${DSL_HEAD}    conv(out, kernel = 3, |`)).toEqual({
      kind: 'argument',
      callee: 'conv',
      given: ['kernel'],
      positional: 1,
      block: 'B',
    });
    expect(at(dslContext, `${DSL_HEAD}    conv(out, kernel = s|`)).toEqual({
      kind: 'expression',
      block: 'B',
    });
  });

  it('where a layer goes: a new line or statement, or after a name and =', () => {
    const layer = { kind: 'layer', block: 'B', keywords: ['shortcut', 'merge'] };
    expect(at(dslContext, `${DSL_HEAD}    conv(out)\n    re|`)).toEqual(layer);
    expect(at(dslContext, `${DSL_HEAD}    conv(out); |`)).toEqual(layer);
    expect(at(dslContext, `${DSL_HEAD}    c1 = |`)).toEqual({ kind: 'layer', block: 'B', keywords: [] });
    expect(at(dslContext, `${DSL_HEAD}  }\n  module m { conv(4); |`)).toEqual({
      kind: 'layer',
      keywords: [],
    });
  });

  it('keywords, settings, nothing in comments, strings and declarations', () => {
    expect(at(dslContext, `${DSL_HEAD}    merge |`)).toEqual({
      kind: 'keyword',
      keywords: ['add', 'concat', 'mul'],
    });
    expect(at(dslContext, `${DSL_HEAD}    merge add if |`)).toEqual({ kind: 'expression', block: 'B' });
    expect(at(dslContext, `${DSL_HEAD}    shortcut when |`)).toEqual({
      kind: 'keyword',
      keywords: ['shape_changes', 'always'],
    });
    expect(at(dslContext, `${DSL_HEAD}  }\n  training { early_stopping { pat|`)).toEqual({
      kind: 'setting',
      group: 'early_stopping',
    });
    expect(at(dslContext, `${DSL_HEAD}    conv(out) // a co|`)).toEqual({ kind: 'none' });
    expect(at(dslContext, `${DSL_HEAD}    $act("re|`)).toEqual({ kind: 'none' });
    expect(at(dslContext, 'network n(wid|')).toEqual({ kind: 'none' });
    expect(at(dslContext, `${DSL_HEAD}    conv(in.|`)).toMatchObject({ kind: 'argument', callee: 'conv' });
  });
});

const YAML_HEAD =
  'netspec: 1\nname: n\nparams: {w: 4}\ninput: [1, 8, 8]\nblocks:\n  B:\n    params: {out: int}\n';

describe('YAML completion contexts while typing', () => {
  it('inside a flow map of a layer: its arguments, without those given', () => {
    expect(at(yamlContext, `${YAML_HEAD}    body:\n      - conv: {out: $out, |`)).toEqual({
      kind: 'argument',
      callee: 'conv',
      given: ['out'],
      block: 'B',
    });
    expect(at(yamlContext, `${YAML_HEAD}    body:\n      - conv: {out: $o|`)).toEqual({
      kind: 'expression',
      block: 'B',
    });
  });

  it('inside a block map under a layer: its arguments', () => {
    expect(at(yamlContext, `${YAML_HEAD}    body:\n      - conv:\n          out: 3\n          |`)).toEqual({
      kind: 'argument',
      callee: 'conv',
      given: [],
      block: 'B',
    });
  });

  it('at a list item of a module, a body, a flow list of layers: layer names; elsewhere not', () => {
    expect(at(yamlContext, `${YAML_HEAD}    body:\n      - relu\n      - |`)).toEqual({
      kind: 'layer',
      block: 'B',
      keywords: [],
    });
    expect(at(yamlContext, `${YAML_HEAD}modules:\n  - stem: [conv: 4, |`)).toEqual({
      kind: 'layer',
      keywords: [],
    });
    expect(at(yamlContext, `${YAML_HEAD}modules:\n  - stem:\n      - |`)).toEqual({
      kind: 'layer',
      keywords: [],
    });
    expect(at(yamlContext, 'netspec: 1\ninput: [1, |')).toEqual({ kind: 'expression' });
    expect(at(yamlContext, `${YAML_HEAD}    body:\n      - relu # a comment |`)).toEqual({ kind: 'none' });
  });

  it('training keys in the training section', () => {
    expect(at(yamlContext, `${YAML_HEAD}training:\n  lr: 0.1\n  |`)).toEqual({ kind: 'setting' });
    expect(at(yamlContext, `${YAML_HEAD}training: {early_stopping: {|`)).toEqual({
      kind: 'setting',
      group: 'early_stopping',
    });
  });
});
