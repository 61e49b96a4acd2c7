/**
 * An ONNX graph under construction, as plain objects in the shape of onnx-proto's message interfaces (encoded
 * later by `encode.ts`): nodes in order, each writing one tensor named as the node (or `<name>/<k>` for several
 * outputs), and initializers (the weights, named by their state-dict keys, and small constants, named
 * `<layer path>/<role>`). Every name is used once; a second use is a program error.
 */
import type { onnx } from 'onnx-proto';

/** onnx.TensorProto.DataType, as numbers (the enum lives in onnx-proto's runtime module, loaded only to encode). */
export const DATA_TYPE = { FLOAT: 1, INT64: 7 } as const;

/** onnx.AttributeProto.AttributeType, as numbers. */
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** A node attribute's value: a float, an integer, integers, or a string. */
export type AttrValue =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly ints: readonly number[] }
  | { readonly s: string };

/** Attribute values by kind. */
export const attr = {
  f: (f: number): AttrValue => ({ f }),
  i: (i: number): AttrValue => ({ i }),
  ints: (ints: readonly number[]): AttrValue => ({ ints }),
  s: (s: string): AttrValue => ({ s }),
};

/** A float32 tensor in memory: shape and row-major values (a state-dict entry). */
export interface FloatTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

function attributeProto(name: string, value: AttrValue): onnx.IAttributeProto {
  if ('f' in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.f };
  if ('i' in value) return { name, type: ATTRIBUTE_TYPE.INT, i: value.i };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value.ints] };
  return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value.s) };
}

/** The little-endian bytes of `data` (every platform Node runs on is little-endian), without a copy. */
function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Nodes and initializers of one graph, in the order they are added. */
export class OnnxGraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** Bytes of float initializers (the weights and float constants). */
  floatBytes = 0;
  private readonly names = new Set<string>();

  /** Claims `name` for a tensor (and its node); throws when it is taken. */
  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX export: the name '${name}' is used twice`);
    this.names.add(name);
    return name;
  }

  /** True when a tensor is named `name`. */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Adds an `opType` node named `name` reading `inputs` (`''` for a left-out optional input); returns its output. */
  op(
    name: string,
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttrValue>> = {},
  ): string {
    return this.opMulti(name, opType, inputs, 1, attributes)[0] ?? name;
  }

  /** Adds a node with `outputs` outputs, named `<name>/0`, `<name>/1`, ... (one output: `name`); returns them. */
  opMulti(
    name: string,
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: Readonly<Record<string, AttrValue>> = {},
  ): string[] {
    this.claim(name);
    const names =
      outputs === 1 ? [name] : Array.from({ length: outputs }, (_, k) => this.claim(`${name}/${k}`));
    this.nodes.push({
      name,
      opType,
      input: [...inputs],
      output: names,
      attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
    });
    return names;
  }

  /** A float32 initializer named `name`; returns its name. */
  floats(name: string, shape: readonly number[], data: Float32Array): string {
    this.claim(name);
    this.floatBytes += data.byteLength;
    this.initializers.push({ name, dims: [...shape], dataType: DATA_TYPE.FLOAT, rawData: rawBytes(data) });
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  /** An int64 initializer (shapes, axes, indices); `shape` defaults to a vector of the values. */
  ints(name: string, values: readonly number[], shape: readonly number[] = [values.length]): string {
    this.claim(name);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims: [...shape], dataType: DATA_TYPE.INT64, rawData: rawBytes(data) });
    return name;
  }
}

/** A float32 tensor's type with a symbolic batch dimension `batch` before `shape`. */
export function batchedFloatType(shape: readonly number[]): onnx.ITypeProto {
  return {
    tensorType: {
      elemType: DATA_TYPE.FLOAT,
      shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] },
    },
  };
}
