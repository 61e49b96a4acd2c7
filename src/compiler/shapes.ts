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

/** MaxPool2d / AvgPool2d: channels kept; PyTorch requires padding at most half the kernel. */
export function poolShape(input: Shape, w: WindowAttrs, what: 'maxpool' | 'avgpool'): ShapeResult {
  for (let axis = 0; axis < 2; axis++)
    if ((w.padding[axis] ?? 0) * 2 > (w.kernel[axis] ?? 1))
      return {
        ok: false,
        code: 'BAD_VALUE',
        message: `${what} padding ${w.padding[axis]} must be at most half the kernel ${w.kernel[axis]}`,
      };
  return windowShape(input, input[0] ?? 0, w, what);
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

/** Flatten: any shape → [numel]. */
export function flattenShape(input: Shape): ShapeResult {
  return ok([input.reduce((a, b) => a * b, 1)]);
}

/** Linear: [F] → [out]; a feature map must be flattened first. */
export function linearShape(input: Shape, outFeatures: number): ShapeResult {
  if (input.length !== 1)
    return {
      ok: false,
      code: 'NOT_FLAT',
      message: `linear expects flat features [F], got [${input.join(', ')}]`,
    };
  return ok([outFeatures]);
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
