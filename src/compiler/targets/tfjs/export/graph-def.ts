/**
 * TensorFlow's GraphDef in its protobuf JSON mapping, as a tfjs GraphModel's `modelTopology` holds it (what
 * tfjs-converter's operation mapper reads): nodes with an op, inputs (`name` or `name:k` for output k) and
 * attributes. Strings (`s`) are base64, 64-bit integers (`i`) decimal strings. Also the builder the graph format
 * uses: nodes in execution order, and constants collected as weights (a GraphModel's `Const` nodes take their
 * values from the weights manifest, by node name).
 */
import type { WeightTensor } from './weights.js';

/** A TensorFlow dtype as the JSON mapping spells it. */
export type TfDtype = 'DT_FLOAT' | 'DT_INT32';

/** A tensor shape: one entry per dimension, -1 for unknown (the batch). */
export interface TensorShapeJson {
  readonly dim?: readonly { readonly size: string }[];
}

/** An attribute value (one field of TensorFlow's AttrValue). */
export type AttrValue =
  | { readonly type: TfDtype }
  | { readonly shape: TensorShapeJson }
  | { readonly tensor: { readonly dtype: TfDtype; readonly tensorShape: TensorShapeJson } }
  | { readonly s: string }
  | { readonly i: string }
  | { readonly f: number }
  | { readonly b: boolean }
  | { readonly list: { readonly i?: readonly string[]; readonly s?: readonly string[] } };

/** One NodeDef. */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, AttrValue>>;
}

/** Attribute builders. */
export const attr = {
  type: (type: TfDtype): AttrValue => ({ type }),
  /** A string attribute (base64 in the JSON mapping; netspec's are ASCII). */
  s: (value: string): AttrValue => ({ s: btoa(value) }),
  i: (value: number): AttrValue => ({ i: String(value) }),
  f: (value: number): AttrValue => ({ f: value }),
  b: (value: boolean): AttrValue => ({ b: value }),
  ints: (values: readonly number[]): AttrValue => ({ list: { i: values.map(String) } }),
  strings: (values: readonly string[]): AttrValue => ({ list: { s: values.map((v) => btoa(v)) } }),
  shape: (dims: readonly number[]): AttrValue => ({ shape: shapeJson(dims) }),
} as const;

/** A shape in the JSON mapping (`[]` for a scalar: no dims). */
export function shapeJson(dims: readonly number[]): TensorShapeJson {
  return dims.length === 0 ? {} : { dim: dims.map((d) => ({ size: String(d) })) };
}

const FLOAT = attr.type('DT_FLOAT');

/**
 * Collects a graph: nodes in the order they are added (inputs before their readers) and the constants' values.
 * Names are unique; a repeated name is a program error.
 */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly weights: WeightTensor[] = [];
  private readonly names = new Set<string>();

  /** True when a node of that name exists. */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Adds an op node; returns its name (its output 0). Float ops get `T: DT_FLOAT` unless `attrs` set it. */
  op(
    name: string,
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
  ): string {
    if (this.names.has(name)) throw new Error(`tfjs-graph export: two nodes would be named '${name}'`);
    this.names.add(name);
    this.nodes.push({ name, op, input: [...inputs], attr: { T: FLOAT, ...attrs } });
    return name;
  }

  /** The graph's float32 input, of `shape` (-1 for the batch). */
  placeholder(name: string, shape: readonly number[]): string {
    if (this.names.has(name)) throw new Error(`tfjs-graph export: two nodes would be named '${name}'`);
    this.names.add(name);
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: FLOAT, shape: attr.shape(shape) } });
    return name;
  }

  /** A float32 constant of `shape` (row-major `data`), stored in the weights. */
  floats(name: string, shape: readonly number[], data: Float32Array): string {
    return this.constant(name, 'DT_FLOAT', { name, shape: [...shape], dtype: 'float32', data });
  }

  /** A float32 scalar constant. */
  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  /** An int32 constant (shapes, permutations, paddings, axes). */
  ints(name: string, shape: readonly number[], values: readonly number[]): string {
    return this.constant(name, 'DT_INT32', {
      name,
      shape: [...shape],
      dtype: 'int32',
      data: Int32Array.from(values),
    });
  }

  private constant(name: string, dtype: TfDtype, tensor: WeightTensor): string {
    if (this.names.has(name)) throw new Error(`tfjs-graph export: two nodes would be named '${name}'`);
    this.names.add(name);
    this.nodes.push({
      name,
      op: 'Const',
      attr: { dtype: attr.type(dtype), value: { tensor: { dtype, tensorShape: shapeJson(tensor.shape) } } },
    });
    this.weights.push(tensor);
    return name;
  }
}
