import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../../../src/compiler/ir.js';
import { generatePyTorch } from '../../../../src/compiler/targets/pytorch/index.js';
import { compileIr } from '../../../support/compile.js';

const PYTHON = '/usr/bin/python3';

describe('PyTorch target', () => {
  it('is deterministic', () => {
    const ir = compileIr('specs/resnet18.yaml');
    expect(generatePyTorch(ir).get('model.py')).toBe(
      generatePyTorch(compileIr('specs/resnet18.net')).get('model.py'),
    );
  });

  it('shares one class between block instances with identical code', () => {
    const py = generatePyTorch(compileIr('specs/resnet18.yaml')).get('model.py') ?? '';
    expect(py.match(/^class \w+\(nn\.Module\):/gm)).toEqual([
      'class ResBlock(nn.Module):',
      'class ResBlock_2(nn.Module):',
      'class ResBlock_3(nn.Module):',
      'class ResBlock_4(nn.Module):',
      'class ResBlock_5(nn.Module):',
      'class ResBlock_6(nn.Module):',
      'class ResBlock_7(nn.Module):',
      'class Resnet18(nn.Module):',
    ]);
    expect(py).toContain('"""Block ResBlock: stage2.0, stage2.1."""');
  });

  it('encodes hostile names so that nothing in them runs or breaks the module', () => {
    // Names the spec language rejects can still reach the generator through a hand-made IR; it must stay safe.
    const ir = compileIr('specs/lenet5.yaml');
    const evil = `x"); import os; os._exit(3) #\n"""\u2028'''`;
    const hostile: IrNetwork = {
      ...ir,
      name: evil,
      modules: ir.modules.map((m) => (m === 'head' ? evil : m)),
      nodes: ir.nodes.map((n) =>
        n.module === 'head' ? { ...n, module: evil, path: n.path.replace(/^head/, evil) } : n,
      ),
    };
    const py = generatePyTorch(hostile).get('model.py') ?? '';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-hostile-'));
    fs.writeFileSync(path.join(dir, 'model.py'), py);
    let python = true;
    try {
      execFileSync(PYTHON, ['-c', 'import ast'], { stdio: 'ignore' });
    } catch {
      python = false;
    }
    if (!python) return;
    // It parses as Python, and importing it runs nothing from the names (os._exit(3) would end python with 3).
    // (Building it is another matter: PyTorch itself refuses module names containing '.'.)
    execFileSync(PYTHON, [
      '-c',
      `import ast,sys; ast.parse(open(sys.argv[1]).read())`,
      path.join(dir, 'model.py'),
    ]);
    const out = execFileSync(
      PYTHON,
      [
        '-c',
        'import importlib.util,sys\ntry:\n import torch\nexcept ImportError:\n print("OK"); sys.exit(0)\n' +
          's=importlib.util.spec_from_file_location("m",sys.argv[1]);m=importlib.util.module_from_spec(s);s.loader.exec_module(m)\n' +
          'print("OK" if callable(m.build_model) else "no")',
        path.join(dir, 'model.py'),
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('OK');
  });
});
