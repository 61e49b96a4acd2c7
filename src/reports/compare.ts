/**
 * The comparison report of `netspec compare`: several variants of a network, each trained with several seeds,
 * summarized as mean ± sample standard deviation, with overlaid curves and a verdict that says plainly when a
 * difference is within seed-to-seed noise. Markdown (curves as PNG files beside it) and self-contained HTML
 * (curves as inline SVG). The view model is computed here; the templates only place it.
 */
import { countParams, type IrNetwork } from '../compiler/ir.js';
import type { RunMetrics } from '../runtime/train/metrics.js';
import { loadTemplate } from '../templates.js';
import { overlayCurves, type CurveOptions } from './curves.js';
import { formatFixed, groupThousands } from './format.js';
import { statJson } from './stat.js';

/** One training run of a variant. */
export interface CompareRun {
  readonly seed: number;
  readonly metrics: RunMetrics;
  /** Where the run's files are, relative to the report (shown, not linked). */
  readonly dir?: string;
}

/** One variant: a spec (with its overrides) and its runs. */
export interface CompareVariant {
  /** The spec file as given on the command line. */
  readonly spec: string;
  /** A unique label for the variant (usually the network name). */
  readonly name: string;
  /** Trainable parameters (PyTorch's convention: BN running statistics not counted). */
  readonly params: number;
  /** Multiply-accumulates per sample, as `netspec stat --format json` counts them (conv, linear, batchnorm). */
  readonly macs: number;
  readonly runs: readonly CompareRun[];
}

/** What {@link compareReport} needs. */
export interface CompareInput {
  readonly variants: readonly CompareVariant[];
}

/** The report: `compare.md`, `compare.html`, and the images the Markdown refers to (file name → content). */
export interface CompareReport {
  readonly markdown: string;
  readonly html: string;
  /** A few plain-text lines for the terminal: each variant's accuracies, then the verdicts. */
  readonly summary: readonly string[];
  readonly images: ReadonlyMap<string, string | Uint8Array>;
}

/** Mean, sample standard deviation (n - 1 denominator; null when n < 2) and n of some numbers. */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly sd: number | null;
}

/** The outcome of the rough two-standard-error check between two variants on one measure. */
export type Verdict =
  | { readonly kind: 'too-few-runs'; readonly difference: number }
  | { readonly kind: 'no-spread'; readonly difference: number }
  | {
      readonly kind: 'within-noise';
      readonly difference: number;
      readonly standardError: number;
      readonly ratio: number;
    }
  | {
      readonly kind: 'beyond-noise';
      readonly difference: number;
      readonly standardError: number;
      readonly ratio: number;
    };

/** Trainable parameters and MACs per sample of a compiled network, for {@link CompareVariant}. */
export function variantCost(ir: IrNetwork): { params: number; macs: number } {
  const stats = statJson(ir) as { totals?: { macs?: unknown } };
  const macs = stats.totals?.macs;
  if (typeof macs !== 'number') throw new Error('internal: statJson has no totals.macs');
  return { params: countParams(ir).trainable, macs };
}

/** Mean and sample standard deviation (Bessel's n - 1) of the finite values; null when there are none. */
export function summarize(values: readonly (number | null | undefined)[]): Summary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { n: xs.length, mean, sd: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { n: xs.length, mean, sd: Math.sqrt(ss / (xs.length - 1)) };
}

/**
 * Compares the means of `a` and `b` with the standard error of their difference (Welch's, sqrt(sa²/na + sb²/nb)).
 * A difference of more than two standard errors is reported as beyond seed noise. This is a rough check: with
 * n of 3 or 5 the standard deviations themselves are uncertain, and no test statistic or p-value is claimed.
 */
export function roughCheck(a: Summary, b: Summary): Verdict {
  const difference = a.mean - b.mean;
  if (a.sd === null || b.sd === null) return { kind: 'too-few-runs', difference };
  const standardError = Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
  if (standardError === 0) return { kind: 'no-spread', difference };
  const ratio = Math.abs(difference) / standardError;
  return ratio > 2
    ? { kind: 'beyond-noise', difference, standardError, ratio }
    : { kind: 'within-noise', difference, standardError, ratio };
}

const acc = (x: number): string => formatFixed(x, 4);

function meanSd(s: Summary | null, digits: number, unit = ''): string {
  if (!s) return '—';
  const m = formatFixed(s.mean, digits) + unit;
  return s.sd === null ? `${m} (n=1)` : `${m} ± ${formatFixed(s.sd, digits)}${unit} (n=${s.n})`;
}

/** `35,562,496 (35.56 M)`: exact, then short. */
function count(n: number): string {
  const short =
    n >= 1e9
      ? `${formatFixed(n / 1e9, 2)} G`
      : n >= 1e6
        ? `${formatFixed(n / 1e6, 2)} M`
        : n >= 1e3
          ? `${formatFixed(n / 1e3, 2)} k`
          : '';
  return short ? `${groupThousands(n)} (${short})` : groupThousands(n);
}

const bestDev = (m: RunMetrics): number | null => m.best?.score ?? null;
const testAcc = (m: RunMetrics): number | null => m.test?.accuracy ?? null;

/** The sentence for one measure of one pair of variants. */
export function verdictSentence(measure: string, a: string, b: string, sa: Summary, sb: Summary): string {
  const v = roughCheck(sa, sb);
  const [hi, lo] = v.difference >= 0 ? [a, b] : [b, a];
  const d = acc(Math.abs(v.difference));
  const means = `${a} ${acc(sa.mean)} vs ${b} ${acc(sb.mean)}`;
  switch (v.kind) {
    case 'too-few-runs':
      return (
        `${measure}: ${means}. With a single run of ${sa.sd === null ? a : b} there is no estimate of ` +
        `seed-to-seed noise, so this difference says nothing yet about the networks; run with --seeds 3 or more.`
      );
    case 'no-spread':
      return v.difference === 0
        ? `${measure}: ${means}; every run gave the same value, so there is no difference to explain.`
        : `${measure}: ${means}. Every run of each variant gave the same value, so ${hi} is ahead by ${d} in ` +
            `every seed; consistent, but ${sa.n} and ${sb.n} runs are few.`;
    case 'within-noise':
      return (
        `${measure}: ${means}. The difference, ${d}, is ${formatFixed(v.ratio, 1)} standard errors ` +
        `(SE ${acc(v.standardError)}), within about 2 SE: indistinguishable from seed-to-seed noise in these runs. ` +
        `They do not show that either variant is better.`
      );
    case 'beyond-noise':
      return (
        `${measure}: ${means}. ${hi} is ahead of ${lo} by ${d}, ${formatFixed(v.ratio, 1)} standard errors ` +
        `(SE ${acc(v.standardError)}), more than about 2 SE, so the gap is probably more than seed noise. ` +
        `This is a rough check with ${sa.n} and ${sb.n} runs, not a significance test.`
      );
  }
}

/** Markdown text: characters that would start markup or break a table cell are escaped. */
function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

function settingsOf(m: RunMetrics): string {
  const t = m.config.training;
  const d = m.config.data;
  const schedule = t.schedule.kind === 'constant' ? '' : `, ${t.schedule.kind} schedule`;
  const extras = [
    t.optimizer === 'momentum' ? `momentum ${t.momentum}` : '',
    t.weightDecay > 0 ? `weight decay ${t.weightDecay}` : '',
  ].filter(Boolean);
  return (
    `${d.source}: ${d.train} train / ${d.dev} dev / ${d.test} test images; ${t.optimizer}, lr ${t.lr}${schedule}` +
    `${extras.length ? `, ${extras.join(', ')}` : ''}, batch size ${t.batchSize}, ${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, ` +
    (t.evalSteps === 'epoch'
      ? 'dev evaluation at each epoch end'
      : t.evalSteps > 0
        ? `dev evaluation every ${t.evalSteps} steps and at the last step`
        : 'no dev evaluation')
  );
}

/** The report's templates: Markdown (escaped by the view) and HTML (escaped by Handlebars). */
function loadTemplates(): { md: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate } {
  return {
    md: loadTemplate('reports/templates/compare.md.hbs'),
    html: loadTemplate('reports/templates/compare.html.hbs', { escapeHtml: true }),
  };
}

/** Everything the templates show, as strings; `md*` fields are Markdown-escaped, the rest are plain text. */
export interface CompareView {
  readonly title: string;
  readonly settings: string;
  readonly warnings: readonly string[];
  readonly variants: readonly {
    name: string;
    spec: string;
    params: string;
    macs: string;
    runs: string;
    bestDev: string;
    test: string;
    time: string;
    backends: string;
  }[];
  readonly verdicts: readonly string[];
  readonly notes: readonly string[];
  readonly runs: readonly {
    variant: string;
    seed: string;
    bestDev: string;
    test: string;
    time: string;
    status: string;
    backend: string;
    dir: string;
  }[];
}

/** Builds the view model of the report (plain text; escaping is the template's or {@link compareReport}'s job). */
export function compareView(input: CompareInput): CompareView {
  const { variants } = input;
  const names = variants.map((v) => v.name);
  if (new Set(names).size !== names.length)
    throw new Error(`internal: variant names are not unique: ${names.join(', ')}`);
  const allRuns = variants.flatMap((v) => v.runs);
  const first = allRuns[0]?.metrics;

  const warnings: string[] = [];
  const settings = new Set(allRuns.map((r) => settingsOf(r.metrics)));
  if (settings.size > 1)
    warnings.push(
      `The runs were not all trained with the same settings (${settings.size} different ones); the comparison is not like for like.`,
    );
  for (const v of variants) {
    const unfinished = v.runs.filter((r) => r.metrics.status !== 'completed');
    if (unfinished.length)
      warnings.push(
        `${v.name}: ${unfinished.length} of ${v.runs.length} runs did not complete (${unfinished.map((r) => `seed ${r.seed}: ${r.metrics.status}`).join(', ')}).`,
      );
    if (v.runs.length < 2)
      warnings.push(
        `${v.name} has ${v.runs.length} run${v.runs.length === 1 ? '' : 's'}: no standard deviation, so no verdict beyond the raw numbers.`,
      );
  }
  const backends = new Set(allRuns.map((r) => r.metrics.backend.name));
  if (backends.size > 1)
    warnings.push(
      `The runs used different backends (${[...backends].join(', ')}), so their times are not comparable.`,
    );

  const summaries = variants.map((v) => ({
    v,
    best: summarize(v.runs.map((r) => bestDev(r.metrics))),
    test: summarize(v.runs.map((r) => testAcc(r.metrics))),
    time: summarize(v.runs.map((r) => r.metrics.trainSeconds)),
  }));

  const verdicts: string[] = [];
  for (let i = 0; i < summaries.length; i++)
    for (let j = i + 1; j < summaries.length; j++) {
      const a = summaries[i];
      const b = summaries[j];
      if (!a || !b) continue;
      for (const [measure, sa, sb] of [
        ['Test accuracy', a.test, b.test],
        ['Best dev accuracy', a.best, b.best],
      ] as const) {
        if (sa && sb) verdicts.push(verdictSentence(measure, a.v.name, b.v.name, sa, sb));
        else verdicts.push(`${measure}: not available for ${!sa ? a.v.name : b.v.name}.`);
      }
    }

  const devSize = first?.config.data.dev;
  const testSize = first?.config.data.test;
  const notes = [
    'Accuracies are fractions correct, shown as mean ± sample standard deviation over seeds (n − 1 in the denominator), with n the number of runs.',
    'Best dev accuracy is the highest of the dev evaluations of a run: it is chosen on the dev set, so it is optimistic. ' +
      'Test accuracy is measured once, on the test set, with the weights of that best evaluation (or the final weights when no evaluation improved, marked "final model"); it is the fairer number.',
    ...(devSize && testSize
      ? [
          `Granularity: one dev image is ${acc(1 / devSize)} of dev accuracy, one test image ${acc(1 / testSize)} of test accuracy.`,
        ]
      : []),
    'The verdict compares the difference of means with its standard error, sqrt(sd_a²/n_a + sd_b²/n_b), and calls more than about 2 standard errors "probably more than seed noise". ' +
      'It is a rough check: with few seeds the standard deviations are themselves uncertain. ' +
      'The seed sets the initial weights, the batch order and, for sources split by seed (mnist-sample), which images are in train, dev and test, so the spread across seeds includes all of these.',
    'Trainable parameters follow PyTorch (torchsummary): BatchNorm running statistics are buffers and not counted. ' +
      'MACs are multiply-accumulates per sample for one forward pass, as "netspec stat --format json" counts them (conv, linear and batchnorm layers).',
    'Training time is the wall time of the training loop (steps and dev evaluations) of one run, in seconds, on the backend shown.',
  ];

  return {
    title: `Comparison: ${names.join(' vs ')}`,
    settings: first ? settingsOf(first) : 'no runs',
    warnings,
    variants: summaries.map(({ v, best, test, time }) => ({
      name: v.name,
      spec: v.spec,
      params: count(v.params),
      macs: count(v.macs),
      runs: `${v.runs.length} (seeds ${v.runs.map((r) => r.seed).join(', ')})`,
      bestDev: meanSd(best, 4),
      test: meanSd(test, 4),
      time: meanSd(time, 1, ' s'),
      backends: [...new Set(v.runs.map((r) => r.metrics.backend.name))].join(', '),
    })),
    verdicts,
    notes,
    runs: variants.flatMap((v) =>
      v.runs.map((r) => ({
        variant: v.name,
        seed: String(r.seed),
        bestDev: r.metrics.best ? `${acc(r.metrics.best.score)} (step ${r.metrics.best.step})` : '—',
        test: r.metrics.test
          ? `${acc(r.metrics.test.accuracy)}${r.metrics.test.model === 'final' ? ' (final model)' : ''}`
          : '—',
        time: `${formatFixed(r.metrics.trainSeconds, 1)} s`,
        status: r.metrics.status,
        backend: r.metrics.backend.name,
        dir: r.dir ?? '',
      })),
    ),
  };
}

/** Escapes every string of a view for Markdown. */
function escapeView<T>(value: T): T {
  if (typeof value === 'string') return md(value) as T;
  if (Array.isArray(value)) return value.map(escapeView) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeView(v)])) as T;
  return value;
}

/** File names of the overlay images written beside compare.md. */
export const COMPARE_IMAGES = {
  lossSvg: 'compare-loss.svg',
  lossPng: 'compare-loss.png',
  accuracySvg: 'compare-accuracy.svg',
  accuracyPng: 'compare-accuracy.png',
} as const;

/** Renders the comparison of `input` as Markdown and self-contained HTML, with the overlay images. */
export async function compareReport(input: CompareInput, options: CurveOptions = {}): Promise<CompareReport> {
  const view = compareView(input);
  const curves = await overlayCurves(
    input.variants.flatMap((v) => v.runs.map((r) => ({ label: v.name, metrics: r.metrics }))),
    options,
  );
  const { md: mdTemplate, html: htmlTemplate } = loadTemplates();
  const markdown = mdTemplate({ ...escapeView(view), images: COMPARE_IMAGES });
  const html = htmlTemplate({ ...view, lossSvg: curves.lossSvg, accuracySvg: curves.accuracySvg });
  const images = new Map<string, string | Uint8Array>([
    [COMPARE_IMAGES.lossSvg, curves.lossSvg],
    [COMPARE_IMAGES.lossPng, curves.lossPng],
    [COMPARE_IMAGES.accuracySvg, curves.accuracySvg],
    [COMPARE_IMAGES.accuracyPng, curves.accuracyPng],
  ]);
  const summary = [
    ...view.variants.map((v) => `${v.name}: best dev accuracy ${v.bestDev}, test accuracy ${v.test}`),
    ...view.verdicts.map((v) => `- ${v}`),
  ];
  return { markdown, html, summary, images };
}
