/** Turns a path into the data (as the schema check reports it) back into the YAML node it came from. */
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, ParsedNode } from 'yaml';
import { deref } from './load.js';

/** The node at `path` below `root` (aliases followed), or the deepest node on the way when the path runs out. */
export function locateNode(
  root: ParsedNode | null,
  path: readonly string[],
  aliases: ReadonlyMap<YamlNode, YamlNode>,
): ParsedNode | undefined {
  let cur = deref(root, aliases);
  for (const seg of path) {
    if (!cur) return undefined;
    let next: ParsedNode | undefined;
    if (isSeq(cur)) next = deref(cur.items[Number(seg)], aliases);
    else if (isMap(cur)) {
      const pair = findPair(cur.items, seg, aliases);
      next = pair ? deref(pair.value, aliases) : undefined;
    }
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

/** The key node `key` of the map `node`, or undefined. */
export function locateKey(
  node: ParsedNode | undefined,
  key: string,
  aliases: ReadonlyMap<YamlNode, YamlNode>,
): ParsedNode | undefined {
  if (!isMap(node)) return undefined;
  const pair = findPair(node.items, key, aliases);
  return pair ? (pair.key as ParsedNode) : undefined;
}

type Pair = { key: unknown; value: unknown };

/** Each map's first pair per key, built on first use: a map of many keys with an issue at each stays linear. */
const pairIndexes = new WeakMap<readonly unknown[], Map<unknown, Pair>>();

function findPair(
  items: readonly unknown[],
  key: string,
  aliases: ReadonlyMap<YamlNode, YamlNode>,
): Pair | undefined {
  let index = pairIndexes.get(items);
  if (!index) {
    index = new Map();
    for (const item of items) {
      if (!isPair(item)) continue;
      const k = deref(item.key, aliases);
      if (isScalar(k) && !index.has(k.value)) index.set(k.value, item);
    }
    pairIndexes.set(items, index);
  }
  return index.get(key);
}

/** Where a node's own text ends: block collections' ranges run on over trailing newlines and comments. */
export function nodeEnd(node: ParsedNode): number {
  if ((isMap(node) || isSeq(node)) && !node.flow) {
    const last = node.items[node.items.length - 1];
    if (isPair(last)) {
      const v = last.value as ParsedNode | null;
      if (v && !isEmptyScalar(v)) return nodeEnd(v);
      return nodeEnd(last.key as ParsedNode);
    }
    if (last) return nodeEnd(last as ParsedNode);
  }
  return node.range[1];
}

/** `key:` with nothing after it parses as an empty null scalar; it counts as no value. */
export function isEmptyScalar(node: ParsedNode): boolean {
  return isScalar(node) && node.value === null && node.range[0] === node.range[1];
}
