/**
 * ONNX files on disk, as far as netspec needs to recognise them without loading them: whether netspec wrote one
 * (so `export --force` may replace it), read from the model's fields before its graph (producer_name) and after it
 * (metadata_props), skipping the graph (the weights) by its length. Decoded with onnx-proto's protobufjs reader.
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxProto } from 'onnx-proto';
import { ONNX_PRODUCER, VERSION_KEY } from '../../compiler/targets/onnx/format.js';
import { readRegularFileRange } from '../files/read.js';

/** How much of a file's start is read for the fields before the graph (netspec's doc_string is far shorter). */
const HEAD_BYTES = 64 * 1024;
/** How much after the graph is read for metadata_props (netspec's are a few hundred bytes). */
const TAIL_BYTES = 1024 * 1024;
/** ModelProto's field numbers (onnx.proto). */
const FIELD = { producerName: 2, graph: 7, metadataProps: 14 } as const;
/** Protobuf's wire type of length-delimited fields. */
const LENGTH_DELIMITED = 2;

/** The part of protobufjs's Reader used here. */
interface ProtoReader {
  pos: number;
  readonly len: number;
  uint32(): number;
  string(): string;
  skipType(wireType: number): ProtoReader;
}

interface Protobuf {
  readonly onnx: typeof OnnxProto;
  readonly Reader: { create(buffer: Uint8Array): ProtoReader };
}

let loaded: Protobuf | undefined;

/** onnx-proto and the protobufjs runtime it is generated for (its own dependency), loaded on first use. */
function protobuf(): Protobuf {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const { onnx } = require('onnx-proto') as { onnx: typeof OnnxProto };
  const fromOnnxProto = createRequire(require.resolve('onnx-proto'));
  const { Reader } = fromOnnxProto('protobufjs/minimal') as { Reader: Protobuf['Reader'] };
  loaded = { onnx, Reader };
  return loaded;
}

/** What netspec reads of an ONNX file to recognise it. */
export interface OnnxHeader {
  readonly producerName?: string;
  /** metadata_props as key → value. */
  readonly metadata: ReadonlyMap<string, string>;
}

/**
 * The producer_name and metadata_props of the ONNX file `file`, reading its first 64 KiB and at most 1 MiB after the
 * graph; undefined when `file` is not a regular file that starts as an ONNX model does. For recognising files,
 * not for loading them.
 */
export function onnxHeaderOf(file: string): OnnxHeader | undefined {
  try {
    const { onnx, Reader } = protobuf();
    const head = Reader.create(readRegularFileRange(file, 'ONNX file', 0, HEAD_BYTES));
    let producerName: string | undefined;
    let graphEnd: number | undefined;
    while (head.pos < head.len && graphEnd === undefined) {
      const tag = head.uint32();
      const [field, wire] = [tag >>> 3, tag & 7];
      if (field === FIELD.producerName && wire === LENGTH_DELIMITED) producerName = head.string();
      else if (field === FIELD.graph && wire === LENGTH_DELIMITED) {
        const length = head.uint32();
        graphEnd = head.pos + length;
      } else head.skipType(wire);
    }
    const metadata = new Map<string, string>();
    if (graphEnd !== undefined) {
      const tail = Reader.create(readRegularFileRange(file, 'ONNX file', graphEnd, TAIL_BYTES));
      try {
        while (tail.pos < tail.len) {
          const tag = tail.uint32();
          const [field, wire] = [tag >>> 3, tag & 7];
          if (field === FIELD.metadataProps && wire === LENGTH_DELIMITED) {
            // The reader is protobufjs's own Reader, typed here by the part of it this file uses.
            const reader = tail as unknown as Parameters<typeof onnx.StringStringEntryProto.decode>[0];
            const entry = onnx.StringStringEntryProto.decode(reader, tail.uint32());
            metadata.set(entry.key, entry.value);
          } else tail.skipType(wire);
        }
      } catch {
        // The tail ends past what was read (a larger model part after the graph): keep what was decoded.
      }
    }
    return { ...(producerName === undefined ? {} : { producerName }), metadata };
  } catch {
    return undefined;
  }
}

/**
 * True when the ONNX file `file` was written by netspec: its producer_name is `netspec` and its metadata_props name
 * netspec's version.
 */
export function isNetspecOnnx(file: string): boolean {
  const header = onnxHeaderOf(file);
  return header?.producerName === ONNX_PRODUCER && header.metadata.has(VERSION_KEY);
}
