/**
 * PyTorch state dicts in and out of netspec: rename maps for foreign models, strict matching against the IR
 * (every tensor needed, none unused, shapes exact), and export with the buffers PyTorch's `load_state_dict`
 * expects (`num_batches_tracked`). Pure: bytes in, data and diagnostics out.
 *
 * Map patterns run on RE2 (the npm package re2js), not on JavaScript's backtracking RegExp: a map file comes from
 * whoever published the weights, and a pattern like `^(a+)+b$` would otherwise hang on a long tensor name.
 * RE2 matches in time linear in the name; what it cannot run in linear time (backreferences, lookaround) is an
 * error at the pattern. The map file, its rules and the names they produce are bounded too.
 */
import { RE2JS } from 're2js';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { error, LineMap, type Diagnostic } from '../../diagnostics.js';
import { numel, type IrNetwork } from '../../compiler/ir.js';
import type { StateDict } from '../../compiler/targets/tfjs/state-dict.js';
import type { DecodedSafetensors, TensorInput } from './safetensors.js';

/** A compiled map pattern (RE2: linear-time matching, `$1`-style replacements as String.prototype.replace). */
export type MapPattern = RE2JS;

/** One rename rule of a map file: every match of `from` in a tensor name is replaced by `to` ($1 etc. allowed). */
export interface RenameRule {
  readonly from: MapPattern;
  readonly to: string;
}

/** A parsed map file: rename rules, and patterns of foreign tensors that are deliberately left unused. */
export interface WeightMap {
  readonly rules: RenameRule[];
  readonly ignore: MapPattern[];
}

/** How large a map file may be: its text, its rules and ignore patterns (each), a pattern, a replacement. */
export const MAP_LIMITS = {
  chars: 1 << 20,
  rules: 1000,
  patternChars: 1000,
  replacementChars: 1000,
  /** A renamed tensor name may grow to this length (or its original length, when longer). */
  nameChars: 1024,
} as const;

/** Compiles a map pattern with RE2's syntax; throws RE2's syntax error for what RE2 cannot run. */
export function compileMapPattern(pattern: string): MapPattern {
  return RE2JS.compile(pattern);
}

/**
 * Parses a map file with positions for every error:
 * `rename: [{from: '<regex>', to: '<replacement>'}, ...]` and optionally `ignore: ['<regex>', ...]` (foreign
 * tensors, by original name, that the network deliberately does not use, e.g. a plain variant's shortcuts).
 */
export function parseWeightMap(text: string, file: string): WeightMap & { diagnostics: Diagnostic[] } {
  const rules: RenameRule[] = [];
  const ignore: MapPattern[] = [];
  if (text.length > MAP_LIMITS.chars)
    return {
      rules,
      ignore,
      diagnostics: [
        error(
          'TOO_LARGE',
          // No span: a huge file is refused without indexing (or printing) its lines.
          `${file}: ${text.length} characters; a weight map may have at most ${MAP_LIMITS.chars}`,
        ),
      ],
    };
  const map = new LineMap(file, text);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const at = (node: Node | null | undefined) => map.span(node?.range?.[0] ?? 0, node?.range?.[1] ?? 0);
  const diagnostics: Diagnostic[] = doc.errors.map((e) =>
    error('YAML_SYNTAX', e.message.split('\n')[0] ?? e.message, map.span(e.pos[0], e.pos[1])),
  );
  if (diagnostics.length) return { rules, ignore, diagnostics };
  const root = doc.contents;
  const list = isMap(root) ? root.get('rename', true) : undefined;
  if (!isMap(root) || !isSeq(list)) {
    diagnostics.push(
      error('SCHEMA', "a weight map is `rename: [{from: '<regex>', to: '<replacement>'}, ...]`", at(root)),
    );
    return { rules, ignore, diagnostics };
  }
  const pattern = (text: string, node: Node): MapPattern | undefined => {
    if (text.length > MAP_LIMITS.patternChars) {
      diagnostics.push(
        error(
          'TOO_LARGE',
          `a pattern of ${text.length} characters; at most ${MAP_LIMITS.patternChars}`,
          at(node),
        ),
      );
      return undefined;
    }
    try {
      return compileMapPattern(text);
    } catch (e) {
      diagnostics.push(
        error(
          'BAD_VALUE',
          `invalid regular expression: ${(e as Error).message}`,
          at(node),
          'patterns run on RE2 (linear-time matching): backreferences and lookaround are not supported',
        ),
      );
      return undefined;
    }
  };
  const tooMany = (what: string, count: number, node: Node): boolean => {
    if (count <= MAP_LIMITS.rules) return false;
    diagnostics.push(
      error('TOO_LARGE', `${count} ${what}; a weight map may have at most ${MAP_LIMITS.rules}`, at(node)),
    );
    return true;
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
    else if (!tooMany('ignore patterns', ignoreList.items.length, ignoreList))
      for (const item of ignoreList.items) {
        if (!isScalar(item) || typeof item.value !== 'string') {
          diagnostics.push(error('SCHEMA', 'ignore patterns are strings', at(item as Node)));
          continue;
        }
        const r = pattern(item.value, item);
        if (r) ignore.push(r);
      }
  }
  if (tooMany('rename rules', list.items.length, list)) return { rules, ignore, diagnostics };
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
    if (to.value.length > MAP_LIMITS.replacementChars) {
      diagnostics.push(
        error(
          'TOO_LARGE',
          `a replacement of ${to.value.length} characters; at most ${MAP_LIMITS.replacementChars}`,
          at(to),
        ),
      );
      continue;
    }
    const r = pattern(from.value, from);
    if (r) rules.push({ from: r, to: to.value });
  }
  return { rules, ignore, diagnostics };
}

/**
 * Applies the rename rules in order to one tensor name. Stops when a rule makes the name longer than
 * {@link MAP_LIMITS}.nameChars (or the original length, when longer): rules that match the empty string could
 * otherwise multiply its length with each rule. Returns the name, or the 0-based index of the rule that overflowed.
 */
export function applyRenameRules(
  name: string,
  rules: readonly RenameRule[],
): { readonly name: string } | { readonly overflow: number; readonly length: number } {
  const limit = Math.max(MAP_LIMITS.nameChars, name.length);
  let current = name;
  for (const [i, rule] of rules.entries()) {
    current = rule.from.matcher(current).replaceAll(rule.to);
    if (current.length > limit) return { overflow: i, length: current.length };
  }
  return { name: current };
}

/** Applies the rename rules in order to one tensor name; throws when a rule makes it overflow (see {@link applyRenameRules}). */
export function renameTensor(name: string, rules: readonly RenameRule[]): string {
  const result = applyRenameRules(name, rules);
  if ('overflow' in result)
    throw new Error(`rename rule ${result.overflow + 1} makes '${name}' ${result.length} characters long`);
  return result.name;
}

/** The tensors a network's state dict holds, by name, with PyTorch shapes (in IR order). */
export function expectedTensors(ir: IrNetwork): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const node of ir.nodes) for (const p of node.params) out.set(`${node.path}.${p.name}`, p.shape);
  return out;
}

/** The index of the first NaN or infinity in `data`, or -1 (a plain loop: vgg11_bn has 132 million weights). */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v - v !== 0) return i; // NaN - NaN and Infinity - Infinity are NaN
  }
  return -1;
}

/**
 * True when two shapes are equal once their axes of size 1 are left out: the elements are then in the same order
 * (torchvision's [1, 1, 768] class token and a [1, 768] parameter; a linear's [out, in] weight and a 1x1
 * convolution's [out, in, 1, 1]), so one is the other reshaped.
 */
function sameUpToUnitAxes(a: readonly number[], b: readonly number[]): boolean {
  const x = a.filter((d) => d !== 1);
  const y = b.filter((d) => d !== 1);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * Matches a decoded safetensors file against the network: renames, then checks that every tensor the network
 * needs is there with its shape (or that shape with axes of size 1 added or left out) and a float dtype, and that every tensor in the file is used (BN's
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
    const renamed = applyRenameRules(original, map.rules);
    if ('overflow' in renamed) {
      diagnostics.push(
        error(
          'TOO_LARGE',
          `${source}: rename rule ${renamed.overflow + 1} makes tensor '${original}' ${renamed.length} characters long; ` +
            `a renamed name may have at most ${Math.max(MAP_LIMITS.nameChars, original.length)}`,
        ),
      );
      continue;
    }
    const name = renamed.name;
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
    if (!sameUpToUnitAxes(tensor.shape, shape)) {
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
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      diagnostics.push(
        error('BAD_VALUE', `${source}: tensor ${named(original, name)} holds ${data[bad]} at index ${bad}`),
      );
      continue;
    }
    // Stored under the network's shape: a [1, 1, 768] class token fits a [1, 768] parameter as it is.
    dict.set(name, { shape: [...shape], data });
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
