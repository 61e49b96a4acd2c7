/**
 * `netspec lsp` through the protocol: a client (vscode-jsonrpc) talks to the server in this process over
 * PassThrough streams, and once to a spawned `netspec lsp --stdio`. Hover numbers are checked against the IR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileHost } from '../../src/cli/io.js';
import { compileSpec } from '../../src/compiler/index.js';
import { numel, type IrNetwork } from '../../src/compiler/ir.js';
import { LAYERS } from '../../src/compiler/ops/index.js';
import { inProcessClient, positionOf, spawnedClient, type TestClient } from './client.js';

const LAYER_NAMES = Object.keys(LAYERS);
const CONV_ARGS = LAYERS.conv.args.map((a) => a.name);

interface Hover {
  contents: { kind: string; value: string };
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
interface Item {
  label: string;
  detail?: string;
}
interface Location {
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
interface Symbol {
  name: string;
  kind: number;
  children?: Symbol[];
}

/** The IR of a canonical spec, compiled from disk. */
function irOf(file: string): IrNetwork {
  const ir = compileSpec(file, fileHost).ir;
  if (!ir) throw new Error(`${file} does not compile`);
  return ir;
}

/** `- \`path\`: output [..], N trainable parameters` lines of a hover, as data. */
function hoverRows(markdown: string): { path: string; shape: number[]; trainable: number }[] {
  return [...markdown.matchAll(/^- `([^`]+)`: output \[([\d, ]*)\], ([\d,]+) trainable parameters?/gm)].map(
    (m) => ({
      path: m[1] ?? '',
      shape: (m[2] ?? '').split(', ').map(Number),
      trainable: Number((m[3] ?? '').replace(/,/g, '')),
    }),
  );
}

/** The rows the IR gives for `paths`: each node's output shape and trainable parameters. */
function irRows(
  ir: IrNetwork,
  paths: readonly string[],
): { path: string; shape: number[]; trainable: number }[] {
  return paths.map((p) => {
    const node = ir.nodes.find((n) => n.path === p);
    if (!node) throw new Error(`no node ${p}`);
    return {
      path: p,
      shape: [...node.outputShape],
      trainable: node.params.reduce((s, q) => s + (q.trainable ? numel(q.shape) : 0), 0),
    };
  });
}

const symbolNames = (symbols: Symbol[]): string[] => (symbols[0]?.children ?? []).map((s) => s.name);

const BROKEN = `network tiny(classes = 10) {
  input [1, 8, 8]
  module body { conv(4, kernl = 3); relu() }
  module head { global_avgpool(); flatten(); linear(classes) }
}
`;

describe('netspec lsp (in process)', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = inProcessClient();
    const capabilities = await client.initialize();
    expect(capabilities).toMatchObject({
      hoverProvider: true,
      definitionProvider: true,
      documentSymbolProvider: true,
    });
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
  });

  it('publishes an error with its range and code as one types, nothing once it is fixed, and clears on close', async () => {
    const uri = await client.open('test/lsp/not-on-disk/tiny.net', BROKEN);
    const [d, ...rest] = await client.diagnostics(uri);
    expect(rest).toEqual([]);
    const at = positionOf(BROKEN, 'kernl');
    expect(d).toMatchObject({
      code: 'UNKNOWN_ARGUMENT',
      severity: 1,
      range: { start: at, end: { line: at.line, character: at.character + 'kernl'.length } },
    });
    expect(d?.message).toContain("conv has no argument 'kernl'");
    expect(d?.message.split('\n').pop()).toBe("hint: did you mean 'kernel'?");
    await client.change(uri, BROKEN.replace('kernl', 'kernel'));
    expect(await client.diagnostics(uri, 1)).toEqual([]);
    await client.change(uri, BROKEN.replace('relu()', 'relu('));
    const [syntax] = await client.diagnostics(uri, 2);
    expect(syntax?.code).toBe('DSL_SYNTAX');
    await client.close(uri);
    expect(await client.diagnostics(uri, 3)).toEqual([]);
  });

  it('puts a block merge error at the merge, with the call site as related information', async () => {
    const text = fs
      .readFileSync('specs/resnet18.net', 'utf8')
      .replace(/shortcut when shape_changes \{[^}]*\}/, '');
    const uri = await client.open('test/lsp/not-on-disk/noshortcut.net', text);
    const diagnostics = await client.diagnostics(uri);
    const mismatch = diagnostics.find((d) => d.code === 'SHAPE_MISMATCH');
    expect(mismatch?.range.start).toEqual(positionOf(text, 'merge add if residual'));
    expect(mismatch?.relatedInformation?.[0]).toMatchObject({
      location: { uri, range: { start: positionOf(text, 'ResBlock(128, stride = 2)') } },
      message: 'the instance stage3.0 is called here',
    });
    await client.close(uri);
  });

  it('gives no diagnostics for YAML that is not a netspec spec', async () => {
    const uri = await client.open('test/lsp/not-on-disk/other.yaml', 'name: something\nmodules: 3\n');
    expect(await client.diagnostics(uri)).toEqual([]);
    expect(await client.at('textDocument/hover', uri, { line: 0, character: 1 })).toBeNull();
    await client.close(uri);
  });

  for (const file of ['specs/resnet18.net', 'specs/resnet18.yaml']) {
    describe(file, () => {
      const text = fs.readFileSync(file, 'utf8');
      const yaml = file.endsWith('.yaml');
      let uri = '';
      beforeAll(async () => {
        uri = await client.open(file);
        expect(await client.diagnostics(uri)).toEqual([]);
      });

      it('hover on conv1 lists its eight paths with the IR shapes and trainable parameters', async () => {
        const at = yaml ? positionOf(text, 'conv: {name: conv1', 2) : positionOf(text, 'conv1 = conv(', 10);
        const hover = await client.at<Hover>('textDocument/hover', uri, at);
        const value = hover.contents.value;
        expect(value).toContain(LAYERS.conv.doc);
        expect(value).toContain('leave out the batch');
        const paths = [
          'stage2.0',
          'stage2.1',
          'stage3.0',
          'stage3.1',
          'stage4.0',
          'stage4.1',
          'stage5.0',
          'stage5.1',
        ].map((g) => `${g}.conv1`);
        expect(hoverRows(value)).toEqual(irRows(irOf(file), paths));
        expect(hoverRows(value)[0]).toEqual({ path: 'stage2.0.conv1', shape: [64, 8, 8], trainable: 36_864 });
        expect(hover.range.start.line).toBe(at.line);
      });

      it('hover on a block call gives its instances with the whole block parameters', async () => {
        const at = yaml ? positionOf(text, 'ResBlock: {out: 64', 2) : positionOf(text, 'ResBlock(64)', 2);
        const hover = await client.at<Hover>('textDocument/hover', uri, at);
        const ir = irOf(file);
        const trainable = (group: string): number =>
          ir.nodes
            .filter((n) => n.path.startsWith(`${group}.`))
            .reduce((s, n) => s + n.params.reduce((t, q) => t + (q.trainable ? numel(q.shape) : 0), 0), 0);
        expect(hoverRows(hover.contents.value)).toEqual(
          ['stage2.0', 'stage2.1'].map((g) => ({ path: g, shape: [64, 8, 8], trainable: trainable(g) })),
        );
        expect(hover.contents.value).toContain(
          yaml ? 'ResBlock: {out: int, stride: 1}' : 'ResBlock(out: int, stride = 1)',
        );
      });

      it('completes the argument names of conv inside its call', async () => {
        const at = yaml
          ? positionOf(text, 'conv: {name: conv1, out: $out, ', 31)
          : positionOf(text, 'conv(out, ', 10);
        const items = await client.at<Item[]>('textDocument/completion', uri, at);
        const labels = items.map((i) => i.label);
        // `out` is given already (by position in the DSL, by name in YAML).
        expect(labels.slice(0, CONV_ARGS.length - 1)).toEqual(CONV_ARGS.filter((a) => a !== 'out'));
        expect(labels).not.toContain('conv');
        if (yaml) expect(labels).toEqual(expect.arrayContaining(['repeat', 'if']));
        expect(labels).not.toContain('name');
      });

      it('completes layer and block names where a layer goes', async () => {
        const at = yaml ? positionOf(text, '- batchnorm: {name: bn1}', 2) : positionOf(text, '    bn1 =', 4);
        const labels = (await client.at<Item[]>('textDocument/completion', uri, at)).map((i) => i.label);
        expect(labels).toEqual(expect.arrayContaining([...LAYER_NAMES, 'ResBlock']));
        expect(labels).not.toContain('kernel');
      });

      it('completes parameters in expressions', async () => {
        const at = yaml ? positionOf(text, 'stride: $stride', 8) : positionOf(text, 'stride = stride', 9);
        const labels = (await client.at<Item[]>('textDocument/completion', uri, at)).map((i) => i.label);
        const ref = (n: string): string => (yaml ? `$${n}` : n);
        expect(labels).toEqual(
          expect.arrayContaining(['out', 'stride', 'in_channels', 'residual', 'in.channels'].map(ref)),
        );
      });

      it('goes from ResBlock(64) to the block declaration', async () => {
        const at = yaml ? positionOf(text, 'ResBlock: {out: 64', 3) : positionOf(text, 'ResBlock(64)', 3);
        const location = await client.at<Location>('textDocument/definition', uri, at);
        const start = yaml ? positionOf(text, 'ResBlock:') : positionOf(text, 'ResBlock(out');
        expect(location).toEqual({
          uri,
          range: { start, end: { line: start.line, character: start.character + 'ResBlock'.length } },
        });
      });

      it('outlines the network with its blocks and modules, and the blocks with their layers', async () => {
        const symbols = await client.connection.sendRequest<Symbol[]>('textDocument/documentSymbol', {
          textDocument: { uri },
        });
        expect(symbols.map((s) => s.name)).toEqual(['resnet18']);
        expect(symbolNames(symbols)).toEqual([
          'input',
          'ResBlock',
          'stem',
          'stage2',
          'stage3',
          'stage4',
          'stage5',
          'head',
          'training',
        ]);
        const block = symbols[0]?.children?.find((s) => s.name === 'ResBlock');
        expect(block?.children?.map((s) => s.name)).toEqual([
          'conv1',
          'bn1',
          'relu',
          'conv2',
          'bn2',
          'shortcut',
          'merge',
          'relu',
        ]);
        expect(symbols[0]?.children?.find((s) => s.name === 'stage2')?.children?.map((s) => s.name)).toEqual([
          'ResBlock',
        ]);
      });
    });
  }

  it('follows extends: a block of the parent is found in its file, with unsaved text of an open parent', async () => {
    const child = fs.readFileSync('specs/resnet34.net', 'utf8');
    const uri = await client.open('specs/resnet34.net');
    expect(await client.diagnostics(uri)).toEqual([]);
    const location = await client.at<Location>(
      'textDocument/definition',
      uri,
      positionOf(child, 'ResBlock(64)', 1),
    );
    const parent = fs.readFileSync('specs/resnet18.net', 'utf8');
    expect(location.uri).toBe(`file://${path.resolve('specs/resnet18.net')}`);
    expect(location.range.start).toEqual(positionOf(parent, 'ResBlock(out'));
    // The parent open with an error: the child's compile reads the unsaved text and shows it at its extends.
    const parentUri = `file://${path.resolve('specs/resnet18.net')}`;
    const before = client.publishedCount(uri);
    await client.change(parentUri, parent.replace('bn1 = batchnorm()', 'bn1 = batchnorm(epss = 1)'));
    const [d] = await client.diagnostics(uri, before);
    expect(d?.code).toBe('UNKNOWN_ARGUMENT');
    expect(d?.message).toMatch(/^resnet18\.net:\d+:\d+: batchnorm has no argument 'epss'/);
    expect(d?.range.start).toEqual(positionOf(child, 'extends'));
    await client.change(parentUri, parent);
    await client.close(uri);
  });
});

describe('netspec lsp --stdio (spawned)', () => {
  it('answers initialize, publishes diagnostics and exits 0 after shutdown and exit', async () => {
    const { client } = spawnedClient();
    const capabilities = await client.initialize();
    expect(capabilities).toMatchObject({ hoverProvider: true });
    const uri = await client.open('test/lsp/not-on-disk/tiny.net', BROKEN);
    expect((await client.diagnostics(uri)).map((d) => d.code)).toEqual(['UNKNOWN_ARGUMENT']);
    expect(await client.stop()).toBe(0);
  }, 60_000);
});
