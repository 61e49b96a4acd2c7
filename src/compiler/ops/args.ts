/**
 * Layer arguments: how a definition declares them (type, default, range, one line of documentation) and how its
 * lowering reads them once the lowering has bound and checked them.
 */

/**
 * The type an argument accepts: `pair` is an int or a list of two ints ([h, w]); `ints` a list of ints of any
 * length (`shape: [1, 768]`, `dims: [0, 2, 1]`); `choice` one of the strings in `choices`.
 */
export type ArgType = 'int' | 'pair' | 'bool' | 'float' | 'ints' | 'choice';

/** One argument of a layer. `min` is an inclusive lower bound; `required` args have no default. */
export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  /** The value when the call leaves it out; `'kernel'`: the value of the `kernel` argument (pooling strides). */
  readonly default?: number | boolean | string | readonly number[] | 'kernel';
  readonly min?: number;
  readonly max?: number;
  /** Strictly greater than `min` (for probabilities and epsilons). */
  readonly exclusiveMin?: boolean;
  /** Strictly less than `max` (stochastic depth's p < 1). */
  readonly exclusiveMax?: boolean;
  /** For `choice`: the strings it accepts (the first is the default unless `default` says otherwise). */
  readonly choices?: readonly string[];
  /** For `ints`: how many items it must have, at least and at most. */
  readonly minItems?: number;
  readonly maxItems?: number;
  /**
   * For a `pair` padding: also accepts `'same'` (the padding that keeps height and width at stride 1, resolved to
   * integers by `samePadding` once kernel, stride and dilation are bound) and `'valid'` (0).
   */
  readonly paddingWords?: boolean;
  /** One line for people (help, editors, the JSON Schema). */
  readonly doc: string;
}

/** A bound argument value (`ints` are a `readonly number[]`, `choice` a string). */
export type ArgValue = number | boolean | string | readonly number[];

/**
 * The checked arguments of one layer call, by name. Every argument a definition declares is present (given or
 * defaulted) by the time its lowering runs; asking for another is a program error.
 */
export class LayerArgs {
  constructor(private readonly values: ReadonlyMap<string, ArgValue>) {}

  private get(name: string): ArgValue {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`internal: layer argument '${name}' is not bound`);
    return v;
  }

  /** An `int` or `float` argument. */
  number(name: string): number {
    const v = this.get(name);
    if (typeof v !== 'number') throw new Error(`internal: layer argument '${name}' is not a number`);
    return v;
  }

  /** A `bool` argument. */
  bool(name: string): boolean {
    const v = this.get(name);
    if (typeof v !== 'boolean') throw new Error(`internal: layer argument '${name}' is not a boolean`);
    return v;
  }

  /** A `pair` argument, as [h, w]. */
  pair(name: string): readonly [number, number] {
    const v = this.get(name);
    if (!Array.isArray(v) || v.length !== 2)
      throw new Error(`internal: layer argument '${name}' is not a pair`);
    return v as unknown as readonly [number, number];
  }

  /** An `ints` argument. */
  ints(name: string): readonly number[] {
    const v = this.get(name);
    if (!Array.isArray(v)) throw new Error(`internal: layer argument '${name}' is not a list`);
    return v as readonly number[];
  }

  /** A `choice` argument. */
  choice(name: string): string {
    const v = this.get(name);
    if (typeof v !== 'string') throw new Error(`internal: layer argument '${name}' is not a choice`);
    return v;
  }
}

/**
 * The value of `spec` when a call leaves it out, given the arguments bound before it (a pooling stride defaults
 * to the kernel); undefined for a required argument. A `pair` default `n` is `[n, n]`.
 */
export function argDefault(spec: ArgSpec, bound: ReadonlyMap<string, ArgValue>): ArgValue | undefined {
  if (spec.default === undefined) return undefined;
  if (spec.default === 'kernel' && spec.type !== 'choice') return bound.get('kernel');
  if (spec.type === 'pair' && typeof spec.default === 'number') return [spec.default, spec.default];
  return spec.default;
}

/** The kernel, stride and padding of a sliding window; pooling strides default to the kernel. */
export function windowArgs(strideDefaultsToKernel: boolean): readonly ArgSpec[] {
  return [
    { name: 'kernel', type: 'pair', min: 1, doc: 'window size, an int or [h, w]' },
    strideDefaultsToKernel
      ? {
          name: 'stride',
          type: 'pair',
          default: 'kernel',
          min: 1,
          doc: 'step of the window (default: kernel)',
        }
      : { name: 'stride', type: 'pair', default: 1, min: 1, doc: 'step of the window' },
    {
      name: 'padding',
      type: 'pair',
      default: 0,
      min: 0,
      paddingWords: true,
      doc: "zeros added on each side; 'same' keeps the size (stride 1, odd kernel), 'valid' is 0",
    },
  ];
}

/** Why `'same'` padding has no symmetric integer form on one axis: a stride above 1, or an even extent. */
export type SamePaddingProblem =
  | { readonly problem: 'stride'; readonly axis: 0 | 1; readonly stride: number }
  | { readonly problem: 'even'; readonly axis: 0 | 1; readonly extent: number };

/**
 * The integer padding `'same'` means: per axis `dilation * (kernel - 1) / 2`, which keeps the size at stride 1
 * (PyTorch's padding='same'). PyTorch pads an odd extent unevenly (less before than after) and refuses a stride
 * above 1; netspec's padding is symmetric, so both are problems to report.
 */
export function samePadding(
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number] = [1, 1],
): { readonly ok: true; readonly padding: [number, number] } | ({ readonly ok: false } & SamePaddingProblem) {
  const padding: [number, number] = [0, 0];
  for (const axis of [0, 1] as const) {
    if (stride[axis] !== 1) return { ok: false, problem: 'stride', axis, stride: stride[axis] };
    const extent = dilation[axis] * (kernel[axis] - 1);
    if (extent % 2 !== 0) return { ok: false, problem: 'even', axis, extent };
    padding[axis] = extent / 2;
  }
  return { ok: true, padding };
}
