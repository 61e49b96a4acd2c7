/**
 * Protobuf encoding and decoding of ONNX models with onnx-proto (protobufjs static code generated from ONNX's
 * onnx.proto). onnx-proto is CommonJS and large, so it is imported on first use.
 */
import type { onnx as OnnxProto } from 'onnx-proto';

/** onnx-proto's `onnx` namespace (the messages), loaded once. */
export async function loadOnnxProto(): Promise<typeof OnnxProto> {
  const mod = (await import('onnx-proto')) as {
    onnx?: typeof OnnxProto;
    default?: { onnx?: typeof OnnxProto };
  };
  const proto = mod.onnx ?? mod.default?.onnx;
  if (!proto) throw new Error("onnx-proto: the module has no 'onnx' namespace");
  return proto;
}

/** The protobuf bytes of `model`. */
export async function encodeOnnxModel(model: OnnxProto.IModelProto): Promise<Uint8Array> {
  const proto = await loadOnnxProto();
  return proto.ModelProto.encode(model).finish();
}

/** The model `bytes` encode (for tests and tools; netspec itself never reads a whole ONNX file). */
export async function decodeOnnxModel(bytes: Uint8Array): Promise<OnnxProto.ModelProto> {
  const proto = await loadOnnxProto();
  return proto.ModelProto.decode(bytes);
}
