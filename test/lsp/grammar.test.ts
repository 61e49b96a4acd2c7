/**
 * The VS Code extension's TextMate grammar (editors/vscode/syntaxes/netspec.tmLanguage.json), run by the engine
 * VS Code uses (vscode-textmate with vscode-oniguruma) over every canonical `.net` spec: keywords, layer names,
 * block calls, numbers and comments get their scopes at known places, and every token but whitespace has a scope
 * beyond the bare `source.netspec`. Its layer names are the language's (src/compiler/ops).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';
import { LAYERS } from '../../src/compiler/ops/index.js';

const GRAMMAR_FILE = 'editors/vscode/syntaxes/netspec.tmLanguage.json';
const SPECS = [
  ...fs
    .readdirSync('specs')
    .filter((f) => f.endsWith('.net'))
    .map((f) => path.join('specs', f)),
  ...fs
    .readdirSync('specs/zoo')
    .filter((f) => f.endsWith('.net'))
    .map((f) => path.join('specs/zoo', f)),
].sort();

/** The only text a token may have when its scopes are just `source.netspec`. */
const UNSCOPED_ALLOWED = /^\s*$/;

interface Token {
  readonly line: number;
  readonly text: string;
  readonly scopes: readonly string[];
}

let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = fs.readFileSync('node_modules/vscode-oniguruma/release/onig.wasm');
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === 'source.netspec'
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_FILE, 'utf8'), path.resolve(GRAMMAR_FILE))
        : null,
  });
  const loaded = await registry.loadGrammar('source.netspec');
  if (!loaded) throw new Error('the grammar did not load');
  grammar = loaded;
});

/** Every token of `text`, line by line, as VS Code would scope it. */
function tokenize(text: string): Token[] {
  let stack = vsctm.INITIAL;
  const out: Token[] = [];
  for (const [n, line] of text.split(/\r\n|\r|\n/).entries()) {
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens)
      out.push({ line: n, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    stack = result.ruleStack;
  }
  return out;
}

/** The innermost scope of the first token of `line` (0-based) whose text is `text`. */
function scopeOf(tokens: readonly Token[], line: number, text: string): string | undefined {
  const token = tokens.find((t) => t.line === line && t.text.trim() === text);
  return token?.scopes[token.scopes.length - 1];
}

describe('the netspec TextMate grammar', () => {
  it('names exactly the language layer kinds as support.function', () => {
    const raw = fs.readFileSync(GRAMMAR_FILE, 'utf8');
    const match = /\\\\b\(([a-z0-9_|]+)\)\\\\b\(\?=\\\\s\*\\\\\(\)/.exec(raw);
    expect(match?.[1]?.split('|').sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('scopes keywords, layer names, block calls, numbers, parameters and comments in resnet18.net', () => {
    const text = fs.readFileSync('specs/resnet18.net', 'utf8');
    const tokens = tokenize(text);
    const lines = text.split('\n');
    const lineOf = (needle: string): number => lines.findIndex((l) => l.includes(needle));
    expect(
      scopeOf(
        tokens,
        0,
        '// ResNet18 for 1x32x32 digits, as in NNDL 5.4 (shared/seed): six modules, residual connections switchable.',
      ),
    ).toBe('comment.line.double-slash.netspec');
    const header = lineOf('network resnet18');
    expect(scopeOf(tokens, header, 'network')).toBe('keyword.other.network.netspec');
    expect(scopeOf(tokens, header, 'resnet18')).toBe('entity.name.namespace.network.netspec');
    expect(scopeOf(tokens, header, 'in_channels')).toBe('variable.parameter.netspec');
    expect(scopeOf(tokens, header, '1')).toBe('constant.numeric.integer.netspec');
    expect(scopeOf(tokens, header, 'true')).toBe('constant.language.boolean.netspec');
    expect(scopeOf(tokens, lineOf('input [in_channels'), 'input')).toBe('keyword.other.input.netspec');
    const block = lineOf('block ResBlock');
    expect(scopeOf(tokens, block, 'block')).toBe('keyword.other.block.netspec');
    expect(scopeOf(tokens, block, 'ResBlock')).toBe('entity.name.type.block.netspec');
    expect(scopeOf(tokens, block, 'int')).toBe('storage.type.netspec');
    const conv1 = lineOf('conv1 = conv(');
    expect(scopeOf(tokens, conv1, 'conv1')).toBe('variable.other.assignment.netspec');
    expect(scopeOf(tokens, conv1, 'conv')).toBe('support.function.layer.netspec');
    expect(scopeOf(tokens, conv1, 'kernel')).toBe('variable.parameter.netspec');
    expect(scopeOf(tokens, conv1, '3')).toBe('constant.numeric.integer.netspec');
    expect(scopeOf(tokens, conv1, 'false')).toBe('constant.language.boolean.netspec');
    expect(scopeOf(tokens, lineOf('relu()'), 'relu')).toBe('support.function.layer.netspec');
    const shortcut = lineOf('shortcut when shape_changes');
    expect(scopeOf(tokens, shortcut, 'shortcut')).toBe('keyword.control.shortcut.netspec');
    expect(scopeOf(tokens, shortcut, 'when')).toBe('keyword.control.when.netspec');
    expect(scopeOf(tokens, shortcut, 'shape_changes')).toBe('constant.language.when.netspec');
    const merge = lineOf('merge add if residual');
    expect(scopeOf(tokens, merge, 'merge')).toBe('keyword.control.merge.netspec');
    expect(scopeOf(tokens, merge, 'add')).toBe('support.function.merge.netspec');
    expect(scopeOf(tokens, merge, 'if')).toBe('keyword.control.if.netspec');
    expect(scopeOf(tokens, merge, 'residual')).toBe('variable.other.netspec');
    const stage2 = lineOf('module stage2');
    expect(scopeOf(tokens, stage2, 'module')).toBe('keyword.other.module.netspec');
    expect(scopeOf(tokens, stage2, 'stage2')).toBe('entity.name.section.module.netspec');
    expect(scopeOf(tokens, stage2, 'ResBlock')).toBe('entity.name.type.block.netspec');
    expect(scopeOf(tokens, stage2, '*')).toBe('keyword.operator.arithmetic.netspec');
    expect(scopeOf(tokens, lineOf('lr = 0.005'), '0.005')).toBe('constant.numeric.float.netspec');
    expect(scopeOf(tokens, lineOf('optimizer = "sgd"'), 'sgd')).toBe('string.quoted.double.netspec');
    expect(scopeOf(tokens, lineOf('training {'), 'training')).toBe('keyword.other.training.netspec');
  });

  it('scopes every token of every canonical .net spec but whitespace', () => {
    expect(SPECS.length).toBeGreaterThan(20);
    const bare: string[] = [];
    for (const file of SPECS) {
      for (const t of tokenize(fs.readFileSync(file, 'utf8')))
        if (t.scopes.length === 1 && !UNSCOPED_ALLOWED.test(t.text))
          bare.push(`${file}:${t.line + 1}: ${JSON.stringify(t.text)}`);
    }
    expect(bare).toEqual([]);
  });

  it('keeps // and # comments, strings with escapes and floats apart from what they resemble', () => {
    const tokens = tokenize('x = 1e-5 // 3 div 2\n# conv(1)\ny = "a\\"b" /* c */ .5 div 2');
    expect(scopeOf(tokens, 0, '1e-5')).toBe('constant.numeric.float.netspec');
    expect(scopeOf(tokens, 0, '// 3 div 2')).toBe('comment.line.double-slash.netspec');
    expect(scopeOf(tokens, 1, '# conv(1)')).toBe('comment.line.number-sign.netspec');
    expect(scopeOf(tokens, 2, '\\"')).toBe('constant.character.escape.netspec');
    expect(scopeOf(tokens, 2, 'c')).toBe('comment.block.netspec');
    expect(scopeOf(tokens, 2, '.5')).toBe('constant.numeric.float.netspec');
    expect(scopeOf(tokens, 2, 'div')).toBe('keyword.operator.word.netspec');
  });
});
