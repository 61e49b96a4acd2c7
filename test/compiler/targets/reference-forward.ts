/**
 * A naive float64 interpreter of the IR with PyTorch's eval-mode semantics, written from PyTorch's documented
 * formulas (NCHW, OIHW, -inf max-pool padding, count_include_pad average pooling, row-major flatten). It is the
 * reference the tfjs target is checked against; it shares no code with it.
 */
import type { IrNetwork, IrNode } from '../../../src/compiler/ir.js';

/** A dense row-major tensor with its batch dimension. */
export interface RefTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Named PyTorch-layout weights. */
export type RefWeights = ReadonlyMap<
  string,
  { readonly shape: readonly number[]; readonly data: ArrayLike<number> }
>;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function weight(w: RefWeights, key: string): ArrayLike<number> {
  const t = w.get(key);
  if (!t) throw new Error(`reference: missing ${key}`);
  return t.data;
}

/** Runs `ir` on `input` ([N, ...ir.inputShape]) in eval mode. */
export function referenceForward(ir: IrNetwork, weights: RefWeights, input: RefTensor): RefTensor {
  const values = new Map<string, RefTensor>([['input', input]]);
  for (const node of ir.nodes) {
    const xs = node.inputs.map((p) => {
      const v = values.get(p);
      if (!v) throw new Error(`reference: ${p} not computed`);
      return v;
    });
    values.set(node.path, evalNode(node, xs, weights));
  }
  const out = values.get(ir.output);
  if (!out) throw new Error('reference: no output');
  return out;
}

function evalNode(node: IrNode, xs: readonly RefTensor[], w: RefWeights): RefTensor {
  const x = xs[0] as RefTensor;
  switch (node.kind) {
    case 'conv':
      return conv2d(
        x,
        weight(w, `${node.path}.weight`),
        node.bias ? weight(w, `${node.path}.bias`) : null,
        node.outChannels,
        node.kernel,
        node.stride,
        node.padding,
        node.dilation,
        node.groups,
      );
    case 'batchnorm': {
      const mean = weight(w, `${node.path}.running_mean`);
      const variance = weight(w, `${node.path}.running_var`);
      const gamma = node.affine ? weight(w, `${node.path}.weight`) : null;
      const beta = node.affine ? weight(w, `${node.path}.bias`) : null;
      const c = x.shape[1] ?? 1;
      const inner = size(x.shape.slice(2));
      const out = new Float64Array(x.data.length);
      for (let i = 0; i < out.length; i++) {
        const ch = Math.floor(i / inner) % c;
        const norm = ((x.data[i] ?? 0) - (mean[ch] ?? 0)) / Math.sqrt((variance[ch] ?? 0) + node.eps);
        out[i] = norm * (gamma ? (gamma[ch] ?? 0) : 1) + (beta ? (beta[ch] ?? 0) : 0);
      }
      return { shape: x.shape, data: out };
    }
    case 'activation': {
      const f = activation(node.fn, node.alpha);
      return { shape: x.shape, data: x.data.map(f) };
    }
    case 'maxpool':
    case 'avgpool':
      return pool(node.kind, x, node.kernel, node.stride, node.padding, node.outputShape);
    case 'adaptive_avgpool':
      return adaptiveAvgPool(x, node.out);
    case 'chunk':
      return narrow(x, node.dim, node.start, node.length);
    case 'slice':
      return narrow(x, node.dim, node.start, node.end - node.start);
    case 'channel_shuffle': {
      const [n = 1, c = 1, h = 1, wd = 1] = x.shape;
      const g = node.groups;
      const t = transposeRef({ shape: [n, g, c / g, h, wd], data: x.data }, [0, 2, 1, 3, 4]);
      return { shape: x.shape, data: t.data };
    }
    case 'stochastic_depth':
      return x; // the reference is eval mode
    case 'global_avgpool':
      return pool('avgpool', x, [x.shape[2] ?? 1, x.shape[3] ?? 1], [1, 1], [0, 0]);
    case 'flatten':
      return { shape: [x.shape[0] ?? 1, size(x.shape.slice(1))], data: x.data };
    case 'linear': {
      // On the last axis: every other axis (the batch, and tokens) is a row.
      const n = size(x.shape.slice(0, -1));
      const f = x.shape[x.shape.length - 1] ?? 1;
      const wt = weight(w, `${node.path}.weight`);
      const b = node.bias ? weight(w, `${node.path}.bias`) : null;
      const o = node.outFeatures;
      const out = new Float64Array(n * o);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < o; j++) {
          let s = b ? (b[j] ?? 0) : 0;
          for (let k = 0; k < f; k++) s += (x.data[i * f + k] ?? 0) * (wt[j * f + k] ?? 0);
          out[i * o + j] = s;
        }
      return { shape: [...x.shape.slice(0, -1), o], data: out };
    }
    case 'layernorm':
      return layerNorm(
        x,
        node.dim,
        node.eps,
        node.affine ? weight(w, `${node.path}.weight`) : null,
        node.affine ? weight(w, `${node.path}.bias`) : null,
      );
    case 'parameter': {
      const p = weight(w, `${node.path}.weight`);
      const n = x.shape[0] ?? 1;
      const out = new Float64Array(n * p.length);
      for (let i = 0; i < out.length; i++) out[i] = p[i % p.length] ?? 0;
      return { shape: [n, ...node.shape], data: out };
    }
    case 'permute':
      return transposeRef(x, node.dims);
    case 'reshape':
      return { shape: [x.shape[0] ?? 1, ...node.outputShape], data: x.data };
    case 'select': {
      // With the axis moved first, row `index` is contiguous and the other axes keep their order.
      const order = [node.dim, ...x.shape.map((_, k) => k).filter((k) => k !== node.dim)];
      const moved = transposeRef(x, order);
      const rest = size(moved.shape.slice(1));
      return {
        shape: moved.shape.slice(1),
        data: moved.data.slice(node.index * rest, (node.index + 1) * rest),
      };
    }
    case 'attention':
      return attention(
        x,
        node.heads,
        weight(w, `${node.path}.in_proj_weight`),
        node.bias ? weight(w, `${node.path}.in_proj_bias`) : null,
        weight(w, `${node.path}.out_proj.weight`),
        node.bias ? weight(w, `${node.path}.out_proj.bias`) : null,
      );
    case 'dropout':
    case 'identity':
      return x;
    case 'add':
      return broadcast(xs, (a, b) => a + b);
    case 'mul':
      return broadcast(xs, (a, b) => a * b);
    case 'concat':
      return concat(xs, node.dim);
  }
}

/** An element-wise `op` of tensors of one rank, broadcast along axes of size 1 (PyTorch's rule). */
function broadcast(xs: readonly RefTensor[], op: (a: number, b: number) => number): RefTensor {
  const rank = xs[0]?.shape.length ?? 0;
  const shape = Array.from({ length: rank }, (_, k) => Math.max(...xs.map((t) => t.shape[k] ?? 1)));
  const outStrides = strides(shape);
  const out = new Float64Array(size(shape));
  xs.forEach((t, j) => {
    const st = strides(t.shape);
    for (let i = 0; i < out.length; i++) {
      let src = 0;
      for (let k = 0; k < rank; k++) {
        const coord = Math.floor(i / (outStrides[k] ?? 1)) % (shape[k] ?? 1);
        src += ((t.shape[k] ?? 1) === 1 ? 0 : coord) * (st[k] ?? 0);
      }
      out[i] = j === 0 ? (t.data[src] ?? 0) : op(out[i] ?? 0, t.data[src] ?? 0);
    }
  });
  return { shape, data: out };
}

/** torch.cat along `dim` (the batch is dim 0). */
function concat(xs: readonly RefTensor[], dim: number): RefTensor {
  const first = xs[0] as RefTensor;
  const outer = size(first.shape.slice(0, dim));
  const parts = xs.map((t) => ({ t, inner: size(t.shape.slice(dim)) }));
  const total = parts.reduce((n, p) => n + p.inner, 0);
  const out = new Float64Array(outer * total);
  let offset = 0;
  for (const { t, inner } of parts) {
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * inner, (o + 1) * inner), o * total + offset);
    offset += inner;
  }
  const shape = [...first.shape];
  shape[dim] = xs.reduce((n, t) => n + (t.shape[dim] ?? 0), 0);
  return { shape, data: out };
}

/** x.narrow(dim, start, length). */
function narrow(x: RefTensor, dim: number, start: number, length: number): RefTensor {
  const outer = size(x.shape.slice(0, dim));
  const inner = size(x.shape.slice(dim + 1));
  const axis = x.shape[dim] ?? 1;
  const out = new Float64Array(outer * length * inner);
  for (let o = 0; o < outer; o++)
    out.set(
      x.data.subarray((o * axis + start) * inner, (o * axis + start + length) * inner),
      o * length * inner,
    );
  const shape = [...x.shape];
  shape[dim] = length;
  return { shape, data: out };
}

/** nn.AdaptiveAvgPool2d: bin i of H spans floor(i*H/h) to ceil((i+1)*H/h). */
function adaptiveAvgPool(x: RefTensor, [oh, ow]: readonly [number, number]): RefTensor {
  const [n = 1, c = 1, h = 1, wd = 1] = x.shape;
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        const [y0, y1] = [Math.floor((y * h) / oh), Math.ceil(((y + 1) * h) / oh)];
        const [x0, x1] = [Math.floor((xx * wd) / ow), Math.ceil(((xx + 1) * wd) / ow)];
        let sum = 0;
        for (let iy = y0; iy < y1; iy++)
          for (let ix = x0; ix < x1; ix++) sum += x.data[(p * h + iy) * wd + ix] ?? 0;
        out[(p * oh + y) * ow + xx] = sum / ((y1 - y0) * (x1 - x0));
      }
  return { shape: [n, c, oh, ow], data: out };
}

function conv2d(
  x: RefTensor,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  outC: number,
  [kh, kw]: readonly [number, number],
  [sh, sw]: readonly [number, number],
  [ph, pw]: readonly [number, number],
  [dh, dw]: readonly [number, number],
  groups: number,
): RefTensor {
  const [n = 1, inC = 1, h = 1, wd = 1] = x.shape;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const icg = inC / groups;
  const ocg = outC / groups;
  const out = new Float64Array(n * outC * oh * ow);
  for (let bi = 0; bi < n; bi++)
    for (let o = 0; o < outC; o++) {
      const g = Math.floor(o / ocg);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? (b[o] ?? 0) : 0;
          for (let ci = 0; ci < icg; ci++) {
            const c = g * icg + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * sh - ph + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * sw - pw + kx * dw;
                if (ix < 0 || ix >= wd) continue;
                s +=
                  (x.data[((bi * inC + c) * h + iy) * wd + ix] ?? 0) *
                  (w[((o * icg + ci) * kh + ky) * kw + kx] ?? 0);
              }
            }
          }
          out[((bi * outC + o) * oh + y) * ow + xx] = s;
        }
    }
  return { shape: [n, outC, oh, ow], data: out };
}

/**
 * Max or average pooling of PyTorch (either ceil mode: the output size is the node's): the average divides by the
 * window clipped to the padded input (count_include_pad), so a window hanging over the end counts only up to it.
 */
function pool(
  kind: 'maxpool' | 'avgpool',
  x: RefTensor,
  [kh, kw]: readonly [number, number],
  [sh, sw]: readonly [number, number],
  [ph, pw]: readonly [number, number],
  outputShape?: readonly number[],
): RefTensor {
  const [n = 1, c = 1, h = 1, wd = 1] = x.shape;
  const oh = outputShape?.[1] ?? Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = outputShape?.[2] ?? Math.floor((wd + 2 * pw - kw) / sw) + 1;
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let acc = kind === 'maxpool' ? -Infinity : 0;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = y * sh - ph + ky;
            const ix = xx * sw - pw + kx;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
            const v = inside ? (x.data[(p * h + iy) * wd + ix] ?? 0) : kind === 'maxpool' ? -Infinity : 0;
            acc = kind === 'maxpool' ? Math.max(acc, v) : acc + v;
          }
        const divisor =
          (Math.min(y * sh - ph + kh, h + ph) - (y * sh - ph)) *
          (Math.min(xx * sw - pw + kw, wd + pw) - (xx * sw - pw));
        out[(p * oh + y) * ow + xx] = kind === 'maxpool' ? acc : acc / divisor;
      }
  return { shape: [n, c, oh, ow], data: out };
}

/** erf to ~1e-15 (Abramowitz-Stegun 7.1.26 is too coarse for a reference): series near 0, continued fraction beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 60; k++) {
      term *= (-ax * ax) / k;
      sum += term / (2 * k + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function activation(fn: string, alpha: number | undefined): (v: number) => number {
  const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
  switch (fn) {
    case 'relu':
      return (v) => Math.max(v, 0);
    case 'relu6':
      return (v) => Math.min(Math.max(v, 0), 6);
    case 'leaky_relu':
      return (v) => (v >= 0 ? v : (alpha ?? 0.01) * v);
    case 'elu':
      return (v) => (v > 0 ? v : (alpha ?? 1) * Math.expm1(v));
    case 'selu':
      return (v) =>
        1.0507009873554804934193349852946 * (v > 0 ? v : 1.6732632423543772848170429916717 * Math.expm1(v));
    case 'gelu':
      return (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    case 'sigmoid':
      return sigmoid;
    case 'tanh':
      return Math.tanh;
    case 'softplus':
      return (v) => (v > 20 ? v : Math.log1p(Math.exp(v)));
    case 'silu':
      return (v) => v * sigmoid(v);
    case 'hardswish':
      return (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
    case 'hardsigmoid':
      return (v) => Math.min(Math.max(v + 3, 0), 6) / 6;
    default:
      throw new Error(`reference: activation ${fn}`);
  }
}

/** Row-major strides of `shape`. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) out[k] = (out[k + 1] ?? 1) * (shape[k + 1] ?? 1);
  return out;
}

/** x.permute(perm): output axis k is input axis perm[k]. */
function transposeRef(x: RefTensor, perm: readonly number[]): RefTensor {
  const shape = perm.map((p) => x.shape[p] ?? 1);
  const inStrides = strides(x.shape);
  const outStrides = strides(shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < shape.length; k++)
      src += (Math.floor(i / (outStrides[k] ?? 1)) % (shape[k] ?? 1)) * (inStrides[perm[k] ?? 0] ?? 0);
    out[i] = x.data[src] ?? 0;
  }
  return { shape, data: out };
}

/** F.layer_norm over the one axis `dim` (of the tensor with its batch): biased variance, then scale and shift. */
function layerNorm(
  x: RefTensor,
  dim: number,
  eps: number,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
): RefTensor {
  const len = x.shape[dim] ?? 1;
  const step = strides(x.shape)[dim] ?? 1;
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    if (Math.floor(i / step) % len !== 0) continue;
    let mean = 0;
    for (let j = 0; j < len; j++) mean += x.data[i + j * step] ?? 0;
    mean /= len;
    let variance = 0;
    for (let j = 0; j < len; j++) variance += ((x.data[i + j * step] ?? 0) - mean) ** 2;
    variance /= len;
    for (let j = 0; j < len; j++) {
      const norm = ((x.data[i + j * step] ?? 0) - mean) / Math.sqrt(variance + eps);
      out[i + j * step] = norm * (gamma ? (gamma[j] ?? 0) : 1) + (beta ? (beta[j] ?? 0) : 0);
    }
  }
  return { shape: x.shape, data: out };
}

/** nn.MultiheadAttention(E, heads, batch_first=True)(x, x, x)[0] from its formulas, one sample and head at a time. */
function attention(
  x: RefTensor,
  heads: number,
  inW: ArrayLike<number>,
  inB: ArrayLike<number> | null,
  outW: ArrayLike<number>,
  outB: ArrayLike<number> | null,
): RefTensor {
  const [n = 1, t = 1, e = 1] = x.shape;
  const d = e / heads;
  const out = new Float64Array(n * t * e);
  const linear = (
    row: number,
    w: ArrayLike<number>,
    b: ArrayLike<number> | null,
    o: number,
    src: Float64Array | ArrayLike<number>,
    base: number,
  ) => {
    let s = b ? (b[row + o] ?? 0) : 0;
    for (let k = 0; k < e; k++) s += (src[base + k] ?? 0) * (w[(row + o) * e + k] ?? 0);
    return s;
  };
  for (let b = 0; b < n; b++) {
    // qkv[i][j]: token i, feature j of [q | k | v].
    const qkv = Array.from({ length: t }, (_, i) =>
      Array.from({ length: 3 * e }, (_, j) => linear(0, inW, inB, j, x.data, (b * t + i) * e)),
    );
    const context = new Float64Array(t * e);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < t; i++) {
        const scores = Array.from({ length: t }, (_, j) => {
          let s = 0;
          for (let k = 0; k < d; k++) s += (qkv[i]?.[h * d + k] ?? 0) * (qkv[j]?.[e + h * d + k] ?? 0);
          return s / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const exps = scores.map((v) => Math.exp(v - max));
        const total = exps.reduce((a, v) => a + v, 0);
        for (let k = 0; k < d; k++) {
          let s = 0;
          for (let j = 0; j < t; j++) s += ((exps[j] ?? 0) / total) * (qkv[j]?.[2 * e + h * d + k] ?? 0);
          context[i * e + h * d + k] = s;
        }
      }
    for (let i = 0; i < t; i++)
      for (let o = 0; o < e; o++) out[(b * t + i) * e + o] = linear(0, outW, outB, o, context, i * e);
  }
  return { shape: x.shape, data: out };
}
