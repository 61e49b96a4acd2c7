import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countParams, serializeIr } from '../../src/compiler/ir.js';
import { compile, compileIr } from '../support/compile.js';

describe('YAML and DSL give byte-identical IR', () => {
  // The canonical specs come in both forms (specs/zoo/ is checked against torchvision in test/zoo/).
  const files = fs.readdirSync('specs', { withFileTypes: true }).filter((f) => f.isFile());
  const names = [...new Set(files.map((f) => f.name.replace(/\.(ya?ml|net)$/, '')))].sort();
  it('covers every canonical spec', () => expect(names.length).toBeGreaterThanOrEqual(7));
  for (const name of names)
    it(name, () => {
      expect(serializeIr(compileIr(`specs/${name}.net`))).toBe(serializeIr(compileIr(`specs/${name}.yaml`)));
    });
});

describe('parameter counts match the reference implementations', () => {
  // Trainable parameters as PyTorch counts them: the seed's torchsummary table, and torchvision's published models.
  const expected: Record<string, number> = {
    resnet18: 11_175_434,
    'resnet18-plain': 11_001_610,
    'torchvision-resnet18': 11_689_512,
    resnet50: 25_557_032,
    lenet5: 61_706,
  };
  for (const [name, count] of Object.entries(expected))
    it(name, () => expect(countParams(compileIr(`specs/${name}.yaml`)).trainable).toBe(count));

  it('counts BN running statistics as buffers (tfjs/Keras non-trainable)', () => {
    expect(countParams(compileIr('specs/resnet18.yaml')).buffers).toBe(9_600);
  });
});

describe('lowering', () => {
  const ir = compileIr('specs/resnet18.yaml');

  it('names layers by path: module index, block instance, layer name, auto-named kinds', () => {
    const paths = ir.nodes.map((n) => n.path);
    expect(paths.slice(0, 11)).toEqual([
      'stem.0',
      'stem.1',
      'stem.2',
      'stem.3',
      'stage2.0.conv1',
      'stage2.0.bn1',
      'stage2.0.relu_1',
      'stage2.0.conv2',
      'stage2.0.bn2',
      'stage2.0.add',
      'stage2.0.relu_2',
    ]);
    expect(paths.at(-1)).toBe('head.2');
  });

  it('uses the shortcut layers only where the body changes the shape', () => {
    const shortcuts = ir.nodes.filter((n) => n.path.endsWith('.shortcut')).map((n) => n.path);
    expect(shortcuts).toEqual(['stage3.0.shortcut', 'stage4.0.shortcut', 'stage5.0.shortcut']);
    const add = ir.nodes.find((n) => n.path === 'stage3.0.add');
    expect(add?.inputs).toEqual(['stage3.0.bn2', 'stage3.0.bn3']);
    const identityAdd = ir.nodes.find((n) => n.path === 'stage3.1.add');
    expect(identityAdd?.inputs).toEqual(['stage3.1.bn2', 'stage3.0.relu_2']);
  });

  it('infers every shape (NCHW, batch excluded)', () => {
    const shape = (p: string) => ir.nodes.find((n) => n.path === p)?.outputShape;
    expect(shape('stem.0')).toEqual([64, 16, 16]);
    expect(shape('stem.3')).toEqual([64, 8, 8]);
    expect(shape('stage3.0.conv1')).toEqual([128, 4, 4]);
    expect(shape('stage5.1.relu_2')).toEqual([512, 1, 1]);
    expect(shape('head.1')).toEqual([512]);
    expect(ir.outputShape).toEqual([10]);
    expect(ir.groups.map((g) => `${g.path}:${g.block}`)).toEqual([
      'stage2.0:ResBlock',
      'stage2.1:ResBlock',
      'stage3.0:ResBlock',
      'stage3.1:ResBlock',
      'stage4.0:ResBlock',
      'stage4.1:ResBlock',
      'stage5.0:ResBlock',
      'stage5.1:ResBlock',
    ]);
  });

  it('marks activations and merges inside blocks as functional (no PyTorch submodule)', () => {
    const functional = ir.nodes.filter((n) => n.functional).map((n) => n.kind);
    expect(new Set(functional)).toEqual(new Set(['activation', 'add']));
    expect(ir.nodes.find((n) => n.path === 'stem.2')?.functional).toBe(false);
  });

  it('drops merge and shortcut when residual is false, via extends or --set', () => {
    const plain = compileIr('specs/resnet18-plain.yaml');
    const viaSet = compileIr('specs/resnet18.yaml', {}, { set: ['residual=false'] });
    expect(plain.nodes.some((n) => n.kind === 'add' || n.path.includes('shortcut'))).toBe(false);
    expect(serializeIr({ ...viaSet, name: plain.name })).toBe(serializeIr(plain));
    expect(plain.params).toEqual({ in_channels: 1, num_classes: 10, residual: false });
  });

  it('--set overrides network parameters with type checks', () => {
    const rgb = compileIr('specs/resnet18.yaml', {}, { set: ['in_channels=3', 'num_classes=100'] });
    expect(rgb.inputShape).toEqual([3, 32, 32]);
    expect(rgb.outputShape).toEqual([100]);
    const bad = compile('specs/resnet18.yaml', {}, { set: ['num_classes=1.5'] });
    expect(bad.ir).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['WRONG_TYPE']);
  });

  it('evaluates integer expressions in block arguments', () => {
    const r50 = compileIr('specs/resnet50.yaml');
    const conv3 = r50.nodes.find((n) => n.path === 'stage5.2.conv3');
    expect(conv3?.outputShape).toEqual([2048, 7, 7]);
  });

  it('binds positional and named arguments to the same IR', () => {
    const spec = (args: string) =>
      `network t {\n  input [1, 8, 8]\n  module m { conv(${args}); flatten() }\n}\n`;
    const a = compileIr('a.net', { 'a.net': spec('4, 3') });
    const b = compileIr('a.net', { 'a.net': spec('kernel = 3, out = 4') });
    expect(serializeIr(a)).toBe(serializeIr(b));
  });

  it('reports a block that calls itself instead of recursing forever', () => {
    const text = 'network t {\n  input [1, 8, 8]\n  block Loop() { Loop() }\n  module m { Loop() }\n}\n';
    const result = compile('loop.net', { 'loop.net': text });
    expect(result.ir).toBeUndefined();
    expect(result.diagnostics[0]?.message).toMatch(/nest deeper than 16 levels/);
  });
});
