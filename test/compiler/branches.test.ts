/**
 * The language of general graphs (issue 13): merges of named branches, the input's shape in expressions,
 * conditional items, the repeat index and layers chosen by a parameter, in both forms; and their errors, each
 * at the place in the source it is about.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeIr, type IrNetwork, type IrNode } from '../../src/compiler/ir.js';
import { compile, compileIr } from '../support/compile.js';

const node = (ir: IrNetwork, path: string): IrNode => {
  const n = ir.nodes.find((m) => m.path === path);
  if (!n) throw new Error(`no node ${path}`);
  return n;
};

/** The diagnostics of an inline spec as `CODE line:col message`. */
function diagnose(text: string, file = 't.net'): string[] {
  return compile(file, { [file]: text }).diagnostics.map(
    (d) => `${d.code} ${d.span?.line ?? 0}:${d.span?.col ?? 0} ${d.message}`,
  );
}

/** A DSL network around `blocks` and one module `m` holding `items`, input [8, 8, 8]. */
const net = (blocks: string, items: string): string =>
  `network t {\n  input [8, 8, 8]\n${blocks}\n  module m { ${items} }\n}\n`;

describe('branches.net and branches.yaml', () => {
  const dsl = compileIr('test/fixtures/graphs/branches.net');
  const yaml = compileIr('test/fixtures/graphs/branches.yaml');

  it('give byte-identical IR', () => expect(serializeIr(yaml)).toBe(serializeIr(dsl)));

  it('name branch layers <block>.<branch>.<n>, a one-layer branch <block>.<branch>', () => {
    const inception = dsl.nodes.filter((n) => n.path.startsWith('stage.0.')).map((n) => n.path);
    expect(inception).toEqual([
      'stage.0.branch1.conv',
      'stage.0.branch1.bn',
      'stage.0.branch1.relu',
      'stage.0.branch2.0.conv',
      'stage.0.branch2.0.bn',
      'stage.0.branch2.0.relu',
      'stage.0.branch2.1.conv',
      'stage.0.branch2.1.bn',
      'stage.0.branch2.1.relu',
      'stage.0.branch4.0',
      'stage.0.branch4.1.conv',
      'stage.0.branch4.1.bn',
      'stage.0.branch4.1.relu',
      'stage.0.concat',
    ]);
  });

  it('merge the branches in written order, each reading the merge input', () => {
    const concat = node(dsl, 'stage.0.concat');
    expect(concat).toMatchObject({
      kind: 'concat',
      dim: 1,
      inputs: ['stage.0.branch1.relu', 'stage.0.branch2.1.relu', 'stage.0.branch4.1.relu'],
      inputShapes: [
        [4, 16, 16],
        [8, 16, 16],
        [4, 16, 16],
      ],
      outputShape: [16, 16, 16],
      functional: true,
    });
    for (const first of ['stage.0.branch1.conv', 'stage.0.branch2.0.conv', 'stage.0.branch4.0'])
      expect(node(dsl, first).inputs).toEqual(['stem.0.relu']);
  });

  it('read the block input shape: in.channels is the SE input width', () => {
    expect(node(dsl, 'stage.1.scale.3')).toMatchObject({ kind: 'conv', inChannels: 4, outChannels: 16 });
    expect(node(dsl, 'stage.1.mul')).toMatchObject({
      kind: 'mul',
      inputs: ['stage.0.concat', 'stage.1.scale.4'],
      inputShapes: [
        [16, 16, 16],
        [16, 1, 1],
      ],
      outputShape: [16, 16, 16],
    });
  });

  it('pass the repeat index and choose the activation by a parameter', () => {
    // Dense(growth = 4 + index) * 3: 16 + 4 + 5 + 6 channels.
    expect(
      ['stage.2.new.2', 'stage.3.new.2', 'stage.4.new.2'].map((p) => node(dsl, p).outputShape[0]),
    ).toEqual([4, 5, 6]);
    expect(node(dsl, 'stage.4.concat').outputShape).toEqual([31, 16, 16]);
    expect(node(dsl, 'stage.2.new.1')).toMatchObject({ kind: 'activation', fn: 'relu' });
  });
});

describe('conditional items', () => {
  const block = `  block B(expand = 1) {\n    conv(8 * expand, kernel = 1) if expand != 1\n    relu()\n  }`;
  it('leave an item out when false; it takes no index', () => {
    const ir = compileIr('t.net', { 't.net': net(block, 'B(); B(expand = 2)') });
    expect(ir.nodes.map((n) => n.path)).toEqual(['m.0.relu', 'm.1.conv', 'm.1.relu']);
    const skipped = compileIr('t.net', { 't.net': net('', 'relu() if false; conv(8, kernel = 1); relu()') });
    expect(skipped.nodes.map((n) => n.path)).toEqual(['m.0', 'm.1']);
  });
  it('must be booleans', () => {
    expect(diagnose(net('', 'relu() if 3'))).toEqual([
      'WRONG_TYPE 4:24 a layer condition must be a boolean, found integer 3',
    ]);
  });
  it('on a merge keep only its first branch when false (no merge node, no unused layers)', () => {
    const residual = `  block R(res = true) {\n    add if res {\n      body { conv(8, kernel = 3, padding = 1) }\n      input {}\n    }\n  }`;
    const on = compileIr('t.net', { 't.net': net(residual, 'R()') });
    expect(on.nodes.map((n) => `${n.path}<-${n.inputs.join('+')}`)).toEqual([
      'm.0.body<-input',
      'm.0.add<-m.0.body+input',
    ]);
    const off = compileIr('t.net', { 't.net': net(residual, 'R(res = false)') });
    expect(off.nodes.map((n) => n.path)).toEqual(['m.0.body']);
  });
});

describe('merge errors name the place and say what is wrong', () => {
  const concat = (a: string, b: string): string =>
    net(`  block C {\n    concat {\n      a { ${a} }\n      b { ${b} }\n    }\n  }`, 'C()');
  it('a concat of maps of another height names the branches and the axis', () => {
    expect(diagnose(concat('conv(4, kernel = 1)', 'conv(4, kernel = 3)'))).toEqual([
      "SHAPE_MISMATCH 4:5 m.0.concat: concat along channels (dim 1): branch 'b' has height 6 where branch 'a' has 8 ([4, 6, 6] and [4, 8, 8]; only dim 1 may differ)",
    ]);
  });
  it('mul of shapes that do not broadcast names the axis and both sizes', () => {
    const text = net(
      `  block M {\n    mul {\n      x {}\n      g { conv(4, kernel = 1) }\n    }\n  }`,
      'M()',
    );
    expect(diagnose(text)).toEqual([
      "SHAPE_MISMATCH 4:5 m.0.mul: mul of shapes that do not broadcast: along channels (dim 1) branch 'x' has 8 and branch 'g' has 4 (each size must be equal or 1)",
    ]);
  });
  it('an unknown merge kind is reported at its own word, in both forms', () => {
    expect(diagnose(net('  block C {\n    concatt {\n      a {}\n    }\n  }', 'C()'))).toEqual([
      "UNKNOWN_MERGE 4:5 unknown merge 'concatt'",
    ]);
    const yaml =
      'netspec: 1\nname: t\ninput: [8, 8, 8]\nblocks:\n  C:\n    body:\n      - concatt: {a: [relu], b: []}\nmodules:\n  - m: [C]\n';
    expect(diagnose(yaml, 't.yaml')).toEqual(["UNKNOWN_MERGE 7:9 unknown merge 'concatt'"]);
    expect(compile('t.yaml', { 't.yaml': yaml }).diagnostics[0]?.hint).toBe("did you mean 'concat'?");
  });
  it('a layer given branches, a merge outside a block, no or twice-named branches', () => {
    expect(diagnose(net('  block C {\n    relu {\n      a {}\n    }\n  }', 'C()'))).toEqual([
      "UNKNOWN_MERGE 4:5 'relu' is a layer, not a merge: only a merge has branches",
    ]);
    expect(diagnose(net('', 'concat { a {} }'))).toEqual([
      "BAD_VALUE 4:14 a merge of branches must be inside a block ('concat' in module 'm')",
    ]);
    expect(diagnose(net('  block C {\n    concat {\n      a {}\n      a {}\n    }\n  }', 'C()'))).toEqual([
      "DUPLICATE_NAME 6:7 branch 'a' is defined twice",
    ]);
  });
  it('a bad layer inside a block is reported once, with the number of instances', () => {
    const text = net('  block B {\n    conv(8, kernel = 0)\n  }', 'B() * 35');
    expect(diagnose(text)).toEqual([
      "NON_POSITIVE 4:22 conv argument 'kernel' must be positive, found 0 (and 34 more instances of this layer)",
    ]);
  });
});

describe('parameters that choose layers, lists and the input shape', () => {
  it('a string parameter names the layer; anything else is an error at the call', () => {
    const ir = compileIr('t.net', {
      't.net': net('  block A(act = "silu") { $act() }', 'A(); A(act = "tanh")'),
    });
    expect(ir.nodes.map((n) => (n.kind === 'activation' ? n.fn : n.kind))).toEqual(['silu', 'tanh']);
    expect(diagnose(net('  block A(act = 3) { $act() }', 'A()'))).toEqual([
      'WRONG_TYPE 3:22 parameter \'act\' is called as a layer, so it must name one (a string such as "relu"), found integer 3',
    ]);
  });
  it('block parameters may be lists (kernel = [1, 7])', () => {
    const ir = compileIr('t.net', {
      't.net': net('  block K(k = [1, 3]) { conv(8, kernel = k, padding = [0, 1]) }', 'K(); K(k = [3, 1])'),
    });
    expect(ir.nodes.map((n) => (n.kind === 'conv' ? n.kernel : []))).toEqual([
      [1, 3],
      [3, 1],
    ]);
  });
  it('in.channels, in.height, in.width are the block input, also in defaults', () => {
    const ir = compileIr('t.net', {
      't.net': net('  block W(out = in.channels * 2) { conv(out, kernel = in.height) }', 'W(); W()'),
    });
    expect(ir.nodes.map((n) => n.outputShape)).toEqual([
      [16, 1, 1],
      [32, 1, 1],
    ]);
  });
  it('YAML expressions may start with ( or -', () => {
    const yaml =
      'netspec: 1\nname: t\nparams: {a: 2}\ninput: [8, 8, 8]\nmodules:\n  - m: [conv: {out: ($a + 2) * 2, kernel: 1}, conv: {out: -$a + 6, kernel: 1}]\n';
    expect(compileIr('t.yaml', { 't.yaml': yaml }).nodes.map((n) => n.outputShape[0])).toEqual([8, 4]);
  });
});

describe("the README's graph tour", () => {
  it('compiles: the Inception block and the DenseNet layer as written there', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### Graphs'));
    const dsl = /```\n([\s\S]*?)```/.exec(section)?.[1];
    if (!dsl) throw new Error('no DSL example in the README graph tour');
    const text =
      'network tour {\n  input [3, 16, 16]\n' +
      '  block BasicConv2d(out, kernel = 1, padding = 0) { conv(out, kernel = kernel, padding = padding); relu() }\n' +
      dsl +
      '  module m { Inception(4, 4, 8, 2, 4, 4); DenseLayer(growth = 4) * 2 }\n}\n';
    const ir = compileIr('tour.net', { 'tour.net': text });
    expect(ir.nodes.find((n) => n.path === 'm.0.branch3.1.conv')?.outputShape).toEqual([4, 16, 16]);
    expect(ir.outputShape).toEqual([28, 16, 16]);
  });
});

describe("'from': an earlier value of the same block", () => {
  const block = (body: string): string => net(`  block U {\n${body}\n  }`, 'U()');
  it('reads a named layer or the block input instead of the previous item', () => {
    const text = block(
      '    down = conv(8, kernel = 3, stride = 2, padding = 1)\n    relu()\n' +
        '    concat {\n      deep { conv(8, kernel = 3, padding = 1) }\n      skip { identity(from = "down") }\n    }\n' +
        '    conv(4, kernel = 1, from = "input")',
    );
    const ir = compileIr('t.net', { 't.net': text });
    expect(ir.nodes.map((n) => `${n.path}<-${n.inputs.join('+')}`)).toEqual([
      'm.0.down<-input',
      'm.0.relu<-m.0.down',
      'm.0.deep<-m.0.relu',
      'm.0.skip<-m.0.down',
      'm.0.concat<-m.0.deep+m.0.skip',
      'm.0.conv<-input',
    ]);
  });
  it('names what it can read when the name is unknown, and is refused at module level', () => {
    expect(diagnose(block('    down = conv(8, kernel = 1)\n    relu(from = "dwn")'))).toEqual([
      "UNKNOWN_LAYER 5:17 no earlier layer 'dwn' in this block to read from",
    ]);
    expect(
      compile('t.net', { 't.net': block('    down = conv(8, kernel = 1)\n    relu(from = "dwn")') })
        .diagnostics[0]?.hint,
    ).toBe("did you mean 'down'?");
    expect(diagnose(net('', 'relu(from = "input")'))).toEqual([
      "BAD_VALUE 4:26 'from' reads an earlier layer of the same block; 'input' is read in module 'm'",
    ]);
  });
});

describe('repeats with a name, and repeats inside blocks', () => {
  it('number their instances under the name, as a PyTorch Sequential, and count as one item', () => {
    const text = net(
      '  block L { conv(8, kernel = 1); relu() }\n  block B(n: int) { L() * n; layers = L() * 2 }',
      'B(3); relu(); blocks = L() * 2; relu()',
    );
    const ir = compileIr('t.net', { 't.net': text });
    const groups = ir.groups.filter((g) => g.block === 'L').map((g) => g.path);
    expect(groups).toEqual([
      'm.0.L.0',
      'm.0.L.1',
      'm.0.L.2',
      'm.0.layers.0',
      'm.0.layers.1',
      'm.blocks.0',
      'm.blocks.1',
    ]);
    expect(ir.nodes.filter((n) => n.kind === 'activation' && n.group === null).map((n) => n.path)).toEqual([
      'm.1',
      'm.3',
    ]);
  });
});

describe('edge cases met writing the zoo', () => {
  it('a named repeat whose last instance is left out still counts as one item', () => {
    const ir = compileIr('t.net', {
      't.net': net('  block L { conv(8, kernel = 1) }', 'blocks = L() * 2 if index == 0; relu()'),
    });
    expect(ir.nodes.map((n) => n.path)).toEqual(['m.blocks.0.conv', 'm.1']);
  });
  it('a repeat of 0 leaves the item out; a negative one is refused', () => {
    const ir = compileIr('t.net', { 't.net': net('', 'conv(8, kernel = 1) * 0; relu()') });
    expect(ir.nodes.map((n) => n.path)).toEqual(['m.0']);
    expect(diagnose(net('', 'relu() * (0 - 1)'))).toEqual([
      'NON_POSITIVE 4:24 repeat count must be at least 0, found -1',
    ]);
  });
});
