/**
 * netspec's tfjs runtime for activations PyTorch has and tfjs's Activation layer lacks: one layer class,
 * `TorchActivation`, computing the function its config names, with PyTorch's formulas and PyTorch's gradients
 * (also at the kinks), so that training steps match PyTorch bit for bit where the arithmetic allows.
 *
 * Like torch-layers.ts it is both imported by the in-memory target and copied verbatim into generated TypeScript,
 * but only into models that use it. Keep it self-contained: import '@tensorflow/tfjs' and nothing else.
 * Adding a function is one entry in FUNCTIONS.
 */
import * as tf from '@tensorflow/tfjs';

type Unary = (x: tf.Tensor) => tf.Tensor;

/** An element-wise function with its own gradient: `backward(dy, x)` is the gradient of the input. */
function unary(forward: Unary, backward: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): Unary {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    const x = args[0] as tf.Tensor;
    save([x]);
    return {
      value: forward(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input] = saved;
        if (!input) throw new Error('TorchActivation: the saved input is missing');
        return backward(dy, input);
      },
    };
  });
  return (x) => op(x);
}

/** PyTorch's forward and backward of each function, as aten/src/ATen/native/cpu/Activation.cpp computes them. */
const FUNCTIONS = {
  /** x * min(max(x + 3, 0), 6) / 6; gradient 0 below -3, x / 3 + 1/2 up to 3 (inclusive), 1 above. */
  hardswish: unary(
    (x) => tf.div(tf.mul(x, tf.clipByValue(tf.add(x, 3), 0, 6)), 6),
    (dy, x) =>
      tf.where(
        tf.less(x, -3),
        tf.zerosLike(dy),
        tf.where(tf.lessEqual(x, 3), tf.mul(dy, tf.add(tf.div(x, 3), 0.5)), dy),
      ),
  ),
  /** min(max(x + 3, 0), 6) / 6; gradient 1/6 strictly between -3 and 3, else 0. */
  hardsigmoid: unary(
    (x) => tf.div(tf.clipByValue(tf.add(x, 3), 0, 6), 6),
    (dy, x) => tf.where(tf.logicalAnd(tf.greater(x, -3), tf.less(x, 3)), tf.mul(dy, 1 / 6), tf.zerosLike(dy)),
  ),
} as const satisfies Readonly<Record<string, Unary>>;

/** The functions `TorchActivation` computes. */
export type TorchActivationFn = keyof typeof FUNCTIONS;

/** Arguments of {@link TorchActivation}: the base layer's plus the function. */
export interface TorchActivationArgs extends NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]> {
  readonly fn: TorchActivationFn;
}

/** An element-wise activation of PyTorch's that tfjs lacks (see FUNCTIONS). */
export class TorchActivation extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchActivation';
  readonly fn: TorchActivationFn;

  constructor(args: TorchActivationArgs) {
    super(args);
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, args.fn))
      throw new Error(`TorchActivation: unknown function '${String(args.fn)}'`);
    this.fn = args.fn;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!x || (Array.isArray(inputs) && inputs.length !== 1))
        throw new Error(`TorchActivation: expected one input`);
      return FUNCTIONS[this.fn](x);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), fn: this.fn };
  }
}

tf.serialization.registerClass(TorchActivation);
