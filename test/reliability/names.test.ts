/**
 * Hostile and awkward names in real specs: rejected at their position when they could not be module or layer
 * names, and otherwise encoded so that the generated TypeScript and Python build the network they name and run
 * nothing else: reserved words (`class`, `new`, `delete`, `import`), and names that collide once sanitized
 * (`a_b.c` and `a.b_c` both want the identifier `a_b_c`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildModel, getStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { generatePyTorch } from '../../src/compiler/targets/pytorch/index.js';
import { generateTypeScript, MODEL_FILE } from '../../src/compiler/targets/typescript/index.js';
import { compile, compileIr } from '../support/compile.js';

const PYTHON = '/usr/bin/python3';

function python(args: string[]): string | undefined {
  try {
    return execFileSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}
const hasPython = python(['-c', 'print(1)']) !== undefined;
const hasTorch = hasPython && python(['-c', 'import torch']) !== undefined;

let tmp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-names-rel-'));
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('names that cannot be module names', () => {
  it.each([
    ['x.y', '"x.y"'],
    ['a-b', '"a-b"'],
    ['1abc', '"1abc"'],
    ['a newline', '"new\\nline"'],
    ['code', `"x'); process.exit(1);//"`],
  ])('DSL: %s is rejected at the name', (_what, quoted) => {
    const text = `network n {\n  input [1, 4, 4]\n  module ${quoted} { flatten(); linear(3) }\n}\n`;
    const result = compile('n.net', { 'n.net': text });
    expect(result.ir).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.span?.line, d.span?.col, d.span?.endOffset])).toEqual([
      ['BAD_VALUE', 3, 10, text.indexOf(quoted) + quoted.length],
    ]);
    expect(result.diagnostics[0]?.message).toMatch(
      /^invalid name ".*": use letters, digits and _, not starting with a digit$/,
    );
  });

  it.each(['x.y', 'a-b', '1abc'])('YAML: %s is rejected at the name', (name) => {
    const text = `netspec: 1\nname: n\ninput: [1, 4, 4]\nmodules:\n  - "${name}": [flatten, linear: {out: 3}]\n`;
    const result = compile('n.yaml', { 'n.yaml': text });
    expect(result.diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toEqual([['BAD_VALUE', 5, 5]]);
  });
});

describe('reserved words and names that collide once sanitized', () => {
  const SPEC = `network names {
  input [1, 4, 4]
  module a_b { flatten(); c = linear(3) }
  module a { b_c = linear(3) }
  module class { class = linear(3); new = relu(); delete = linear(3); import = linear(2) }
}
`;
  const ir = compileIr('names.net', { 'names.net': SPEC });
  const paramNames = ir.nodes.flatMap((n) => n.params.map((p) => `${n.path}.${p.name}`));

  it('compile: the IR keeps every name as written', () => {
    expect(ir.nodes.map((n) => n.path)).toEqual([
      'a_b.0',
      'a_b.c',
      'a.b_c',
      'class.class',
      'class.new',
      'class.delete',
      'class.import',
    ]);
  });

  it('TypeScript: distinct identifiers, and the module builds the network with these names, running nothing else', async () => {
    const dir = path.join(tmp, 'ts');
    fs.mkdirSync(dir);
    fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const files = generateTypeScript(ir);
    for (const [file, text] of files) fs.writeFileSync(path.join(dir, file), text);
    const code = files.get(MODEL_FILE) ?? '';
    const constants = [...code.matchAll(/^\s*const (\w+) = /gm)].map((m) => m[1]);
    expect(new Set(constants).size).toBe(constants.length);
    expect(constants).toEqual(expect.arrayContaining(['a_b_c', 'a_b_c_2']));
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('generated code called process.exit');
    });
    try {
      const mod = (await import(path.join(dir, MODEL_FILE))) as {
        buildModel(o?: { seed?: number }): tf.LayersModel;
      };
      const generated = mod.buildModel({ seed: 2 });
      const inMemory = buildModel(ir, { seed: 2 });
      const a = getStateDict(generated, ir);
      expect([...a.keys()].sort()).toEqual([...paramNames].sort());
      const b = getStateDict(inMemory, ir);
      for (const [k, t] of b) expect(Array.from(a.get(k)?.data ?? []), k).toEqual(Array.from(t.data));
      generated.dispose();
      inMemory.dispose();
    } finally {
      expect(exit).not.toHaveBeenCalled();
      exit.mockRestore();
    }
  });

  it.skipIf(!hasPython)(
    'Python: the generated module parses; with PyTorch, its state dict has exactly these names',
    () => {
      const file = path.join(tmp, 'model.py');
      fs.writeFileSync(file, generatePyTorch(ir).get('model.py') ?? '');
      expect(
        python(['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read()); print("parsed")', file])?.trim(),
      ).toBe('parsed');
      if (!hasTorch) return;
      const keys = python([
        '-c',
        'import importlib.util,json,sys\n' +
          's=importlib.util.spec_from_file_location("m",sys.argv[1]);m=importlib.util.module_from_spec(s);s.loader.exec_module(m)\n' +
          'print(json.dumps(list(m.build_model().state_dict().keys())))',
        file,
      ]);
      expect(JSON.parse(keys ?? 'null')).toEqual(paramNames);
    },
  );
});
