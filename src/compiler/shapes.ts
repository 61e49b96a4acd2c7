/**
 * Shape rules: small pure functions per layer kind, as PyTorch computes them. Each returns the output shape or
 * a reason the input does not fit; the caller turns reasons into diagnostics with positions.
 */
import type { Shape } from './ir.js';

/** A shape rule's answer: the output shape, or why there is none. */
export type ShapeResult =
  | { readonly ok: true; readonly shape: Shape }
  | {
      readonly ok: false;
      readonly code: 'KERNEL_TOO_LARGE' | 'SHAPE_MISMATCH' | 'NOT_FLAT' | 'BAD_VALUE';
      readonly message: string;
    };

const ok = (shape: Shape): ShapeResult => ({ ok: true, shape });

/** Output length of a convolution or pooling window along one axis (PyTorch's floor formula). */
export function convOutputLength(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation = 1,
): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Attributes shared by convolution and pooling windows. */
export interface WindowAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
}

function windowShape(input: Shape, channels: number, w: WindowAttrs, what: string): ShapeResult {
  if (input.length !== 3)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `${what} expects a feature map [C, H, W], got [${input.join(', ')}]`,
    };
  const [, h = 0, wd = 0] = input;
  const dims = [h, wd] as const;
  const out: number[] = [channels];
  for (let axis = 0; axis < 2; axis++) {
    const size = dims[axis] ?? 0;
    const k = w.kernel[axis] ?? 1;
    const p = w.padding[axis] ?? 0;
    const d = w.dilation[axis] ?? 1;
    const extent = d * (k - 1) + 1;
    if (extent > size + 2 * p) {
      const axisName = axis === 0 ? 'height' : 'width';
      return {
        ok: false,
        code: 'KERNEL_TOO_LARGE',
        message: `${what} kernel ${extent} is larger than its padded input ${axisName} ${size + 2 * p} (${size} + 2*${p})`,
      };
    }
    out.push(convOutputLength(size, k, w.stride[axis] ?? 1, p, d));
  }
  return ok(out);
}

/** Conv2d: [Cin, H, W] → [out, H', W']; also checks the channel count and groups. */
export function convShape(
  input: Shape,
  inChannelsOk: boolean,
  outChannels: number,
  w: WindowAttrs,
): ShapeResult {
  if (!inChannelsOk)
    return { ok: false, code: 'SHAPE_MISMATCH', message: 'conv groups must divide both channel counts' };
  return windowShape(input, outChannels, w, 'conv');
}

/**
 * Output length of a pooling window along one axis, PyTorch's `pooling_output_shape` (dilation 1): the floor
 * formula, or with `ceilMode` the ceiling, less a last window that would start in the right padding (every
 * window starts inside the input or the left padding).
 */
export function poolOutputLength(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  ceilMode: boolean,
): number {
  const span = size + 2 * padding - kernel;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  const out = Math.floor((span + stride - 1) / stride) + 1;
  return (out - 1) * stride >= size + padding ? out - 1 : out;
}

/**
 * MaxPool2d / AvgPool2d: channels kept; PyTorch requires padding at most half the kernel. With `ceilMode` the
 * kernel may overhang the padded input by less than the stride (the last window hangs over its end).
 */
export function poolShape(
  input: Shape,
  w: WindowAttrs,
  what: 'maxpool' | 'avgpool',
  ceilMode = false,
): ShapeResult {
  for (let axis = 0; axis < 2; axis++)
    if ((w.padding[axis] ?? 0) * 2 > (w.kernel[axis] ?? 1))
      return {
        ok: false,
        code: 'BAD_VALUE',
        message: `${what} padding ${w.padding[axis]} must be at most half the kernel ${w.kernel[axis]}`,
      };
  if (!ceilMode || input.length !== 3) return windowShape(input, input[0] ?? 0, w, what);
  const out: number[] = [input[0] ?? 0];
  for (let axis = 0; axis < 2; axis++) {
    const size = input[axis + 1] ?? 0;
    const [k, s, p] = [w.kernel[axis] ?? 1, w.stride[axis] ?? 1, w.padding[axis] ?? 0];
    const length = poolOutputLength(size, k, s, p, true);
    if (length < 1)
      return {
        ok: false,
        code: 'KERNEL_TOO_LARGE',
        message:
          `${what} kernel ${k} is larger than its padded input ${axis === 0 ? 'height' : 'width'} ` +
          `${size + 2 * p} (${size} + 2*${p}) by ${k - size - 2 * p}; with ceil_mode it may hang over by less than ` +
          `the stride ${s}`,
      };
    out.push(length);
  }
  return ok(out);
}

/** AdaptiveAvgPool2d(1): [C, H, W] → [C, 1, 1]. */
export function globalPoolShape(input: Shape): ShapeResult {
  if (input.length !== 3)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `global_avgpool expects a feature map [C, H, W], got [${input.join(', ')}]`,
    };
  return ok([input[0] ?? 0, 1, 1]);
}

/** AdaptiveAvgPool2d([h, w]): [C, H, W] → [C, h, w], for any H and W (an output larger than the input too). */
export function adaptivePoolShape(input: Shape, out: readonly [number, number]): ShapeResult {
  if (input.length !== 3)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `adaptive_avgpool expects a feature map [C, H, W], got [${input.join(', ')}]`,
    };
  return ok([input[0] ?? 0, out[0], out[1]]);
}

/** One axis of a per-sample shape, picked by PyTorch's `dim` (the batch is dim 0). */
export interface ShapeAxis {
  /** Index into the per-sample shape (dim - 1). */
  readonly axis: number;
  readonly size: number;
  /** What people call it: channels, height, width, features, or `dim d`. */
  readonly name: string;
}

/** The axis `dim` names in `input` (dims 1 to rank; 0 is the batch), or why there is none. */
export function shapeAxis(
  input: Shape,
  dim: number,
  what: string,
): ShapeAxis | Extract<ShapeResult, { ok: false }> {
  const size = input[dim - 1];
  if (dim < 1 || size === undefined)
    return {
      ok: false,
      code: 'BAD_VALUE',
      message:
        `${what} dim ${dim} is not an axis of its input [${input.join(', ')}]: dim 0 is the batch, ` +
        `this input has dims 1 to ${input.length}`,
    };
  const names = input.length === 3 ? ['channels', 'height', 'width'] : input.length === 1 ? ['features'] : [];
  return { axis: dim - 1, size, name: names[dim - 1] ?? `dim ${dim}` };
}

/** `input` with axis `axis` of length `length`. */
function withLength(input: Shape, axis: number, length: number): Shape {
  return input.map((d, i) => (i === axis ? length : d));
}

/**
 * Piece `index` of torch.chunk over `size` elements: pieces of ceil(size/chunks), the last smaller, so there may
 * be fewer than `chunks` of them; undefined when there is no piece `index`.
 */
export function chunkPiece(
  size: number,
  chunks: number,
  index: number,
): { readonly start: number; readonly length: number } | undefined {
  const piece = Math.ceil(size / chunks);
  const start = index * piece;
  if (start >= size) return undefined;
  return { start, length: Math.min(piece, size - start) };
}

/** torch.chunk(x, chunks, dim)[index]: the input with that axis cut to the piece. */
export function chunkShape(input: Shape, chunks: number, index: number, dim: number): ShapeResult {
  const a = shapeAxis(input, dim, 'chunk');
  if ('ok' in a) return a;
  const piece = chunkPiece(a.size, chunks, index);
  if (piece === undefined) {
    const length = Math.ceil(a.size / chunks);
    const pieces = Math.ceil(a.size / length);
    return {
      ok: false,
      code: 'BAD_VALUE',
      message:
        `chunk index ${index} has no piece: torch.chunk splits ${a.name} ${a.size} (dim ${dim}) into ` +
        `${pieces} piece${pieces === 1 ? '' : 's'} of at most ${length} for chunks ${chunks}, indexes 0 to ${pieces - 1}`,
    };
  }
  return ok(withLength(input, a.axis, piece.length));
}

/**
 * x.narrow(dim, start, end - start), with negative start and end counting from the end of the axis (as Python's
 * x[:, -2:] does); the range must then be within the axis and not empty (no clamping, unlike Python slices).
 */
export function sliceRange(
  input: Shape,
  dim: number,
  start: number,
  end: number,
): { readonly ok: true; readonly start: number; readonly end: number } | Extract<ShapeResult, { ok: false }> {
  const a = shapeAxis(input, dim, 'slice');
  if ('ok' in a) return a;
  const from = start < 0 ? start + a.size : start;
  const to = end < 0 ? end + a.size : end;
  if (from < 0 || to > a.size || from >= to) {
    const resolved = start < 0 || end < 0 ? ` (from the end: ${from} to ${to})` : '';
    return {
      ok: false,
      code: 'BAD_VALUE',
      message:
        `slice start ${start} and end ${end}${resolved} are not a non-empty range of ${a.name} ${a.size} ` +
        `(dim ${dim}): need 0 <= start < end <= ${a.size}, negatives counting from the end`,
    };
  }
  return { ok: true, start: from, end: to };
}

/** The shape of a slice whose range `sliceRange` resolved. */
export function sliceShape(input: Shape, dim: number, start: number, end: number): ShapeResult {
  const r = sliceRange(input, dim, start, end);
  return r.ok ? ok(withLength(input, dim - 1, r.end - r.start)) : r;
}

/** torchvision's channel_shuffle: a [C, H, W] map whose channels divide into `groups`; shape kept. */
export function channelShuffleShape(input: Shape, groups: number): ShapeResult {
  if (input.length !== 3)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `channel_shuffle expects a feature map [C, H, W], got [${input.join(', ')}]`,
    };
  const channels = input[0] ?? 0;
  if (channels % groups !== 0)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `channel_shuffle groups ${groups} must divide the channels ${channels} (input [${input.join(', ')}])`,
    };
  return ok(input);
}

/** Flatten: any shape → [numel]. */
export function flattenShape(input: Shape): ShapeResult {
  return ok([input.reduce((a, b) => a * b, 1)]);
}

/** Linear: [F] → [out], or tokens [T, F] → [T, out] (on the last axis); a feature map must be flattened first. */
export function linearShape(input: Shape, outFeatures: number): ShapeResult {
  if (input.length === 2) return ok([input[0] ?? 0, outFeatures]);
  if (input.length !== 1)
    return {
      ok: false,
      code: 'NOT_FLAT',
      message: `linear expects flat features [F], got [${input.join(', ')}]`,
    };
  return ok([outFeatures]);
}

const list = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const mismatch = (message: string): ShapeResult => ({ ok: false, code: 'SHAPE_MISMATCH', message });
const badValue = (message: string): ShapeResult => ({ ok: false, code: 'BAD_VALUE', message });

/** The axes a per-sample shape may have: [F], [T, E] or [C, H, W]. */
const MAX_RANK = 3;

/**
 * PyTorch's `dim` of a per-sample shape of `rank` axes, counting the batch axis (0) and from the end when
 * negative, as a non-negative axis 1..rank; or why it names no axis of a sample.
 */
export function sampleDim(
  dim: number,
  rank: number,
  what: string,
): { readonly ok: true; readonly dim: number } | Extract<ShapeResult, { ok: false }> {
  const d = dim < 0 ? dim + rank + 1 : dim;
  if (d === 0)
    return {
      ok: false,
      code: 'BAD_VALUE',
      message: `${what} dim ${dim} is the batch axis; a layer acts on each sample (dims 1 to ${rank}, or -1 to -${rank})`,
    };
  if (d < 0 || d > rank)
    return {
      ok: false,
      code: 'BAD_VALUE',
      message: `${what} dim ${dim} is out of range for an input of ${rank} dimensions and the batch (dims 1 to ${rank}, or -1 to -${rank})`,
    };
  return { ok: true, dim: d };
}

/** LayerNorm over one axis: the shape is kept; `dim` must name an axis of the sample. */
export function layerNormShape(input: Shape, dim: number): ShapeResult {
  const d = sampleDim(dim, input.length, 'layernorm');
  return d.ok ? ok(input) : d;
}

/** A learnable tensor of `shape` per sample: 1 to 3 dimensions, as every other value. */
export function parameterShape(shape: readonly number[]): ShapeResult {
  if (shape.length < 1 || shape.length > MAX_RANK)
    return badValue(`parameter shape ${list(shape)} must have 1 to ${MAX_RANK} dimensions`);
  return ok(shape);
}

/** x.permute(dims): `dims` orders the batch axis and every axis of the input, each once, the batch first. */
export function permuteShape(input: Shape, dims: readonly number[]): ShapeResult {
  const rank = input.length + 1;
  if (dims.length !== rank)
    return mismatch(
      `permute dims ${list(dims)} must name all ${rank} axes of the input ${list(input)} and the batch (${rank} dims)`,
    );
  const sorted = [...dims].sort((a, b) => a - b);
  if (sorted.some((d, i) => d !== i))
    return badValue(`permute dims ${list(dims)} must order the axes 0 to ${rank - 1}, each once`);
  if (dims[0] !== 0)
    return badValue(`permute dims ${list(dims)} must keep the batch axis first (dims[0] = 0)`);
  return ok(dims.slice(1).map((d) => input[d - 1] ?? 0));
}

/**
 * x.reshape(batch, *shape): one -1 takes what the others leave; every other size must be positive, and the count
 * of elements must stay the same.
 */
export function reshapeShape(input: Shape, shape: readonly number[]): ShapeResult {
  const count = input.reduce((a, b) => a * b, 1);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) return badValue(`reshape shape ${list(shape)} may have at most one -1`);
  const bad = shape.find((d) => d !== -1 && d < 1);
  if (bad !== undefined)
    return badValue(`reshape shape ${list(shape)} has size ${bad}; sizes are positive (or one -1)`);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (free === 1) {
    if (count % known !== 0)
      return mismatch(
        `reshape of ${list(input)} (${count} elements) to ${list(shape)}: ${count} is not a multiple of ${known}`,
      );
    return ok(shape.map((d) => (d === -1 ? count / known : d)));
  }
  if (known !== count)
    return mismatch(
      `reshape of ${list(input)} (${count} elements) to ${list(shape)} (${known} elements): the counts differ`,
    );
  return ok(shape);
}

/** x.select(dim, index): the axis `dim` is dropped, so the input needs at least two axes besides the batch. */
export function selectShape(input: Shape, dim: number, index: number): ShapeResult {
  const d = sampleDim(dim, input.length, 'select');
  if (!d.ok) return d;
  if (input.length < 2)
    return mismatch(`select drops an axis and needs at least 2 dimensions, got ${list(input)}`);
  const size = input[d.dim - 1] ?? 0;
  if (index < -size || index >= size)
    return badValue(
      `select index ${index} is out of range for dim ${dim} of size ${size} (${-size} to ${size - 1})`,
    );
  return ok(input.filter((_, i) => i !== d.dim - 1));
}

/** Self-attention: tokens [T, E] → [T, E]; E must divide into `heads`. */
export function attentionShape(input: Shape, heads: number): ShapeResult {
  if (input.length !== 2) return mismatch(`attention expects tokens [T, E], got ${list(input)}`);
  const embed = input[1] ?? 0;
  if (embed % heads !== 0)
    return badValue(`attention embedding ${embed} does not divide into ${heads} heads`);
  return ok(input);
}

/** Element-wise sum: every input must have the same shape. */
export function addShape(inputs: readonly Shape[]): ShapeResult {
  const first = inputs[0] ?? [];
  for (const s of inputs.slice(1))
    if (s.length !== first.length || s.some((d, i) => d !== first[i]))
      return {
        ok: false,
        code: 'SHAPE_MISMATCH',
        message: `add of different shapes: [${first.join(', ')}] and [${s.join(', ')}]`,
      };
  return ok(first);
}

/** BatchNorm: [C, H, W] or [F]; features = first dimension. */
export function batchNormShape(input: Shape): ShapeResult {
  if (input.length !== 3 && input.length !== 1)
    return {
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: `batchnorm expects [C, H, W] or [F], got [${input.join(', ')}]`,
    };
  return ok(input);
}
