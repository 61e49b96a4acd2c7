/**
 * PyTorch's and Keras's names for netspec's layers and arguments, for hints: a person who writes `Conv2d` or
 * `kernel_size` knows what they mean, and "did you mean" by edit distance cannot get from `dense` to `linear`.
 * Matched as written and case-insensitively (with `_` ignored), after the spec's own names.
 */

/** A layer kind another framework names differently: the netspec kind and the other name, for the hint. */
interface KindAlias {
  readonly kind: string;
  readonly known: string;
}

const KIND_ALIASES: ReadonlyMap<string, KindAlias> = new Map(
  (
    [
      ['linear', "PyTorch's nn.Linear", ['linear']],
      ['linear', "Keras's Dense", ['dense', 'fc', 'fullyconnected']],
      ['conv', "PyTorch's nn.Conv2d", ['conv2d', 'convolution2d', 'convolution']],
      ['batchnorm', "PyTorch's nn.BatchNorm2d", ['batchnorm2d', 'batchnorm1d']],
      ['batchnorm', "Keras's BatchNormalization", ['batchnormalization']],
      ['maxpool', "PyTorch's nn.MaxPool2d", ['maxpool2d']],
      ['maxpool', "Keras's MaxPooling2D", ['maxpooling2d', 'maxpooling']],
      ['avgpool', "PyTorch's nn.AvgPool2d", ['avgpool2d']],
      ['avgpool', "Keras's AveragePooling2D", ['averagepooling2d', 'averagepooling']],
      [
        'global_avgpool',
        "Keras's GlobalAveragePooling2D",
        ['globalaveragepooling2d', 'globalaveragepooling'],
      ],
      ['adaptive_avgpool', "PyTorch's nn.AdaptiveAvgPool2d", ['adaptiveavgpool2d']],
      ['relu', "PyTorch's nn.ReLU", ['relu']],
      ['dropout', "PyTorch's nn.Dropout", ['dropout']],
      ['flatten', "PyTorch's nn.Flatten", ['flatten']],
      ['layernorm', "PyTorch's nn.LayerNorm", ['layernorm']],
      ['layernorm', "Keras's LayerNormalization", ['layernormalization']],
    ] as const
  ).flatMap(([kind, known, names]) => names.map((n) => [n, { kind, known }] as const)),
);

/** Kinds netspec leaves out on purpose, with why (softmax: the loss applies it). */
const LEFT_OUT_KINDS: ReadonlyMap<string, string> = new Map([
  [
    'softmax',
    'leave it out: a netspec network outputs logits; the loss (cross-entropy) applies softmax itself, and ' +
      'netspec predict shows softmax probabilities',
  ],
  [
    'logsoftmax',
    'leave it out: a netspec network outputs logits, and the loss (cross-entropy) applies log-softmax itself',
  ],
]);

/** `Conv2d`, `conv_2d`, `CONV2D` → `conv2d`. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/**
 * What a name another framework uses for a layer kind is in netspec: `{kind, known}` for an alias (`Conv2d` →
 * conv), `{leftOut}` for a kind netspec has no use for (softmax), else undefined. `kinds` are netspec's kinds.
 */
export function frameworkKind(
  name: string,
  kinds: ReadonlySet<string>,
): { readonly kind: string; readonly known: string } | { readonly leftOut: string } | undefined {
  const n = normalize(name);
  const left = LEFT_OUT_KINDS.get(n);
  if (left !== undefined) return { leftOut: left };
  const alias = KIND_ALIASES.get(n);
  return alias && kinds.has(alias.kind) && alias.kind !== name ? alias : undefined;
}

/** An argument another framework names differently: netspec's name and the other name, for the hint. */
const ARG_ALIASES: ReadonlyMap<string, { readonly arg: string; readonly known: string }> = new Map(
  (
    [
      ['out', "PyTorch's out_channels", ['outchannels']],
      ['out', "PyTorch's out_features", ['outfeatures']],
      ['out', "Keras's filters", ['filters']],
      ['out', "Keras's units", ['units']],
      ['kernel', "PyTorch's kernel_size", ['kernelsize']],
      ['kernel', "Keras's pool_size", ['poolsize']],
      ['stride', "Keras's strides", ['strides']],
      ['bias', "Keras's use_bias", ['usebias']],
      ['eps', "Keras's epsilon", ['epsilon']],
      ['p', "PyTorch's p (Keras's rate)", ['rate']],
      ['slope', "PyTorch's negative_slope", ['negativeslope']],
    ] as const
  ).flatMap(([arg, known, names]) => names.map((n) => [n, { arg, known }] as const)),
);

/** Arguments netspec infers from the input, with what it infers. */
const INFERRED_ARGS: ReadonlyMap<string, string> = new Map([
  ['inchannels', 'the input channels'],
  ['infeatures', 'the input features'],
  ['numfeatures', 'the number of features (channels)'],
  ['inputshape', 'every shape after the network input'],
  ['inputdim', 'the input features'],
]);

/**
 * What an argument name another framework uses is in netspec: `{arg, known}` for an alias (`kernel_size` →
 * kernel) when the layer has `arg`, `{inferred}` for one netspec infers (`in_channels`), else undefined.
 */
export function frameworkArg(
  name: string,
  names: readonly string[],
): { readonly arg: string; readonly known: string } | { readonly inferred: string } | undefined {
  const n = normalize(name);
  const inferred = INFERRED_ARGS.get(n);
  if (inferred !== undefined) return { inferred };
  const alias = ARG_ALIASES.get(n);
  return alias && names.includes(alias.arg) ? alias : undefined;
}
