/**
 * PyTorch state dicts in and out of netspec: rename maps for foreign models, strict matching against the IR
 * (every tensor needed, none unused, shapes exact), and export with the buffers PyTorch's `load_state_dict`
 * expects (`num_batches_tracked`). Pure: bytes in, data and diagnostics out.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { error, LineMap, type Diagnostic } from '../../diagnostics.js';
import { numel, type IrNetwork } from '../../compiler/ir.js';
import type { StateDict } from '../../compiler/targets/tfjs/state-dict.js';
import type { DecodedSafetensors, TensorInput } from './safetensors.js';

/** One rename rule of a map file: every match of `from` in a tensor name is replaced by `to` ($1 etc. allowed). */
export interface RenameRule {
  readonly from: RegExp;
  readonly to: string;
}

/** A parsed map file: rename rules, and patterns of foreign tensors that are deliberately left unused. */
export interface WeightMap {
  readonly rules: RenameRule[];
  readonly ignore: RegExp[];
}

/**
 * Parses a map file with positions for every error:
 * `rename: [{from: '<regex>', to: '<replacement>'}, ...]` and optionally `ignore: ['<regex>', ...]` (foreign
 * tensors, by original name, that the network deliberately does not use, e.g. a plain variant's shortcuts).
 */
export function parseWeightMap(text: string, file: string): WeightMap & { diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const map = new LineMap(file, text);
  const at = (node: Node | null | undefined) => map.span(node?.range?.[0] ?? 0, node?.range?.[1] ?? 0);
  const diagnostics: Diagnostic[] = doc.errors.map((e) =>
    error('YAML_SYNTAX', e.message.split('\n')[0] ?? e.message, map.span(e.pos[0], e.pos[1])),
  );
  const rules: RenameRule[] = [];
  const ignore: RegExp[] = [];
  if (diagnostics.length) return { rules, ignore, diagnostics };
  const root = doc.contents;
  const list = isMap(root) ? root.get('rename', true) : undefined;
  if (!isMap(root) || !isSeq(list)) {
    diagnostics.push(
      error('SCHEMA', "a weight map is `rename: [{from: '<regex>', to: '<replacement>'}, ...]`", at(root)),
    );
    return { rules, ignore, diagnostics };
  }
  const regex = (node: Node, flags: string): RegExp | undefined => {
    try {
      return new RegExp(String((node as { value?: unknown }).value), flags);
    } catch (e) {
      diagnostics.push(error('BAD_VALUE', `invalid regular expression: ${(e as Error).message}`, at(node)));
      return undefined;
    }
  };
  for (const item of root.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (key !== 'rename' && key !== 'ignore')
      diagnostics.push(
        error('UNKNOWN_KEY', `unknown key '${key}' (expected 'rename' or 'ignore')`, at(item.key as Node)),
      );
  }
  const ignoreList = root.get('ignore', true);
  if (ignoreList !== undefined) {
    if (!isSeq(ignoreList))
      diagnostics.push(error('SCHEMA', 'ignore is a list of regular expressions', at(ignoreList as Node)));
    else
      for (const item of ignoreList.items) {
        if (!isScalar(item) || typeof item.value !== 'string') {
          diagnostics.push(error('SCHEMA', 'ignore patterns are strings', at(item as Node)));
          continue;
        }
        const r = regex(item, '');
        if (r) ignore.push(r);
      }
  }
  for (const rule of list.items) {
    const from = isMap(rule) ? rule.get('from', true) : undefined;
    const to = isMap(rule) ? rule.get('to', true) : undefined;
    if (
      !isMap(rule) ||
      !isScalar(from) ||
      !isScalar(to) ||
      typeof from.value !== 'string' ||
      typeof to.value !== 'string'
    ) {
      diagnostics.push(error('SCHEMA', 'each rule needs string keys from and to', at(rule as Node)));
      continue;
    }
    const r = regex(from, 'g');
    if (r) rules.push({ from: r, to: to.value });
  }
  return { rules, ignore, diagnostics };
}

/** Applies the rename rules in order to one tensor name. */
export function renameTensor(name: string, rules: readonly RenameRule[]): string {
  return rules.reduce((n, r) => n.replace(r.from, r.to), name);
}

/** The tensors a network's state dict holds, by name, with PyTorch shapes (in IR order). */
export function expectedTensors(ir: IrNetwork): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const node of ir.nodes) for (const p of node.params) out.set(`${node.path}.${p.name}`, p.shape);
  return out;
}

/**
 * Matches a decoded safetensors file against the network: renames, then checks that every tensor the network
 * needs is there with its exact shape and a float dtype, and that every tensor in the file is used (BN's
 * `num_batches_tracked` counters are accepted and ignored, and so are names the map's `ignore` matches). Each finding names the tensor (and its original
 * name when a map renamed it).
 */
export function importStateDict(
  file: DecodedSafetensors,
  map: WeightMap,
  ir: IrNetwork,
  source: string,
): { dict: StateDict; diagnostics: Diagnostic[] } {
  const expected = expectedTensors(ir);
  const bnPaths = new Set(ir.nodes.filter((n) => n.kind === 'batchnorm').map((n) => n.path));
  const dict: StateDict = new Map();
  const origin = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const named = (original: string, name: string) =>
    original === name ? `'${name}'` : `'${original}' (renamed to '${name}')`;
  for (const [original, tensor] of file.tensors) {
    if (map.ignore.some((r) => r.test(original))) continue;
    const name = renameTensor(original, map.rules);
    if (name.endsWith('.num_batches_tracked') && bnPaths.has(name.slice(0, -'.num_batches_tracked'.length)))
      continue;
    const shape = expected.get(name);
    if (!shape) {
      diagnostics.push(
        error('UNKNOWN_KEY', `${source}: tensor ${named(original, name)} is not used by '${ir.name}'`),
      );
      continue;
    }
    const previous = origin.get(name);
    if (previous !== undefined) {
      diagnostics.push(
        error('DUPLICATE_NAME', `${source}: tensors '${previous}' and '${original}' both map to '${name}'`),
      );
      continue;
    }
    origin.set(name, original);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      diagnostics.push(
        error(
          'SHAPE_MISMATCH',
          `${source}: tensor ${named(original, name)} has shape [${tensor.shape.join(', ')}], the network needs [${shape.join(', ')}]`,
        ),
      );
      continue;
    }
    if (tensor.dtype !== 'F32' && tensor.dtype !== 'F64') {
      diagnostics.push(
        error(
          'WRONG_TYPE',
          `${source}: tensor ${named(original, name)} has dtype ${tensor.dtype}, expected F32 or F64`,
        ),
      );
      continue;
    }
    const data =
      tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as Float64Array);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      diagnostics.push(
        error('BAD_VALUE', `${source}: tensor ${named(original, name)} holds ${data[bad]} at index ${bad}`),
      );
      continue;
    }
    dict.set(name, { shape: [...tensor.shape], data });
  }
  for (const [name, shape] of expected)
    if (!origin.has(name))
      diagnostics.push(error('MISSING_KEY', `${source}: tensor '${name}' [${shape.join(', ')}] is missing`));
  // Present in IR order, whatever the file's order.
  const ordered: StateDict = new Map();
  for (const name of expected.keys()) {
    const t = dict.get(name);
    if (t) ordered.set(name, t);
  }
  return { dict: ordered, diagnostics };
}

/**
 * A state dict as safetensors tensors that the generated PyTorch module loads with `load_state_dict` (strict):
 * the float tensors plus each BN layer's `num_batches_tracked` (int64 scalar, `batchesTracked`).
 */
export function exportStateDict(
  dict: StateDict,
  ir: IrNetwork,
  batchesTracked = 0,
): Map<string, TensorInput> {
  const out = new Map<string, TensorInput>();
  for (const node of ir.nodes) {
    for (const p of node.params) {
      const key = `${node.path}.${p.name}`;
      const t = dict.get(key);
      if (!t || t.data.length !== numel(p.shape)) throw new Error(`internal: state dict lacks ${key}`);
      out.set(key, { dtype: 'F32', shape: [...p.shape], data: t.data });
    }
    if (node.kind === 'batchnorm')
      out.set(`${node.path}.num_batches_tracked`, {
        dtype: 'I64',
        shape: [],
        data: BigInt64Array.of(BigInt(batchesTracked)),
      });
  }
  return out;
}
