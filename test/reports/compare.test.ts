import { describe, expect, it } from 'vitest';
import { compileSpec } from '../../src/compiler/index.js';
import { fileHost } from '../../src/cli/io.js';
import {
  COMPARE_IMAGES,
  compareReport,
  compareView,
  roughCheck,
  summarize,
  variantCost,
  verdictSentence,
  type CompareVariant,
} from '../../src/reports/compare.js';
import { syntheticMetrics } from './synthetic-metrics.js';

/** A variant whose runs have the given test accuracies (dev accuracies 0.01 higher). */
function variant(name: string, tests: number[], extra: Partial<CompareVariant> = {}): CompareVariant {
  return {
    spec: `specs/${name}.yaml`,
    name,
    params: 11_175_434,
    macs: 35_562_496,
    runs: tests.map((t, seed) => ({
      seed,
      dir: `runs/${name}/seed-${seed}`,
      metrics: syntheticMetrics({
        seed,
        network: name,
        devAccuracies: [0.5, 0.6, 0.7, 0.8, t + 0.01, t],
        testAccuracy: t,
        trainSeconds: 10 + seed,
      }),
    })),
    ...extra,
  };
}

describe('statistics', () => {
  it('summarizes with the sample standard deviation (n - 1) and skips missing values', () => {
    const s = summarize([0.9, 0.91, null, 0.92, Number.NaN]);
    expect(s?.n).toBe(3);
    expect(s?.mean).toBeCloseTo(0.91, 12);
    expect(s?.sd).toBeCloseTo(0.01, 12); // population sd would be 0.008165
    expect(summarize([0.5])).toEqual({ n: 1, mean: 0.5, sd: null });
    expect(summarize([null, undefined])).toBeNull();
  });

  it('compares a difference of means with twice its standard error', () => {
    const a = { n: 3, mean: 0.9, sd: 0.01 };
    // SE = sqrt(0.01²/3 + 0.01²/3) = 0.0081650; 0.02 / SE = 2.449
    const beyond = roughCheck(a, { n: 3, mean: 0.88, sd: 0.01 });
    expect(beyond.kind).toBe('beyond-noise');
    if (beyond.kind !== 'beyond-noise') return;
    expect(beyond.standardError).toBeCloseTo(0.008165, 6);
    expect(beyond.ratio).toBeCloseTo(2.4495, 4);
    const within = roughCheck(a, { n: 3, mean: 0.89, sd: 0.01 });
    expect(within.kind).toBe('within-noise');
    if (within.kind === 'within-noise') expect(within.ratio).toBeCloseTo(1.2247, 4);
    expect(roughCheck(a, { n: 1, mean: 0.8, sd: null }).kind).toBe('too-few-runs');
    expect(roughCheck({ n: 2, mean: 0.9, sd: 0 }, { n: 2, mean: 0.8, sd: 0 }).kind).toBe('no-spread');
  });

  it('words the verdict honestly', () => {
    const a = { n: 3, mean: 0.91, sd: 0.01 };
    const b = { n: 3, mean: 0.905, sd: 0.005 };
    // SE = sqrt(0.0001/3 + 0.000025/3) = 0.0064550; 0.005 / SE = 0.77
    expect(verdictSentence('Test accuracy', 'res', 'plain', a, b)).toBe(
      'Test accuracy: res 0.9100 vs plain 0.9050. The difference, 0.0050, is 0.8 standard errors (SE 0.0065), ' +
        'within about 2 SE: indistinguishable from seed-to-seed noise in these runs. They do not show that either variant is better.',
    );
    expect(
      verdictSentence(
        'Test accuracy',
        'res',
        'plain',
        { n: 3, mean: 0.88, sd: 0.01 },
        { n: 3, mean: 0.92, sd: 0.01 },
      ),
    ).toBe(
      'Test accuracy: res 0.8800 vs plain 0.9200. plain is ahead of res by 0.0400, 4.9 standard errors (SE 0.0082), ' +
        'more than about 2 SE, so the gap is probably more than seed noise. This is a rough check with 3 and 3 runs, not a significance test.',
    );
    expect(
      verdictSentence(
        'Test accuracy',
        'res',
        'plain',
        { n: 1, mean: 0.91, sd: null },
        { n: 1, mean: 0.91, sd: null },
      ),
    ).toMatch(
      /no estimate of seed-to-seed noise, so this difference says nothing yet about the networks; run with --seeds 3 or more\.$/,
    );
  });
});

describe('compareView', () => {
  it('tabulates each variant as mean ± sd over seeds, with exact parameter and MAC counts', () => {
    const view = compareView({
      variants: [
        variant('resnet18', [0.9, 0.91, 0.92]),
        variant('resnet18-plain', [0.9, 0.905, 0.91], { params: 11_001_610 }),
      ],
    });
    expect(view.title).toBe('Comparison: resnet18 vs resnet18-plain');
    expect(view.settings).toBe(
      'mnist-sample: 1000 train / 200 dev / 200 test images; sgd, lr 0.005, batch size 64, 5 epochs, dev evaluation every 15 steps and at the last step',
    );
    expect(view.warnings).toEqual([]);
    expect(view.variants).toEqual([
      {
        name: 'resnet18',
        spec: 'specs/resnet18.yaml',
        params: '11,175,434 (11.18 M)',
        macs: '35,562,496 (35.56 M)',
        runs: '3 (seeds 0, 1, 2)',
        bestDev: '0.9200 ± 0.0100 (n=3)',
        test: '0.9100 ± 0.0100 (n=3)',
        time: '11.0 s ± 1.0 s (n=3)',
        backends: 'cpu',
      },
      {
        name: 'resnet18-plain',
        spec: 'specs/resnet18-plain.yaml',
        params: '11,001,610 (11.00 M)',
        macs: '35,562,496 (35.56 M)',
        runs: '3 (seeds 0, 1, 2)',
        bestDev: '0.9150 ± 0.0050 (n=3)',
        test: '0.9050 ± 0.0050 (n=3)',
        time: '11.0 s ± 1.0 s (n=3)',
        backends: 'cpu',
      },
    ]);
    expect(view.verdicts).toHaveLength(2);
    expect(view.verdicts[0]).toMatch(
      /^Test accuracy: resnet18 0\.9100 vs resnet18-plain 0\.9050\. The difference, 0\.0050, is 0\.8 standard errors/,
    );
    expect(view.verdicts[1]).toMatch(/^Best dev accuracy: resnet18 0\.9200 vs resnet18-plain 0\.9150\./);
    expect(view.runs[0]).toEqual({
      variant: 'resnet18',
      seed: '0',
      bestDev: '0.9100 (step 75)',
      test: '0.9000',
      time: '10.0 s',
      status: 'completed',
      backend: 'cpu',
      dir: 'runs/resnet18/seed-0',
    });
    expect(view.notes.join('\n')).toMatch(/n − 1 in the denominator/);
    expect(view.notes.join('\n')).toMatch(/one dev image is 0\.0050 of dev accuracy/);
  });

  it('warns about single runs, unfinished runs, mixed settings and mixed backends', () => {
    const a = variant('a', [0.9, 0.92]);
    const b = variant('b', [0.8]);
    const first = a.runs[0];
    if (!first) throw new Error('no run');
    const changed = {
      ...first,
      metrics: {
        ...first.metrics,
        status: 'diverged' as const,
        backend: { name: 'wasm', reasons: [] },
        config: { ...first.metrics.config, training: { ...first.metrics.config.training, lr: 0.1 } },
      },
    };
    const view = compareView({ variants: [{ ...a, runs: [changed, ...a.runs.slice(1)] }, b] });
    expect(view.warnings).toEqual([
      'The runs were not all trained with the same settings (2 different ones); the comparison is not like for like.',
      'a: 1 of 2 runs did not complete (seed 0: diverged).',
      'b has 1 run: no standard deviation, so no verdict beyond the raw numbers.',
      'The runs used different backends (wasm, cpu), so their times are not comparable.',
    ]);
    expect(view.verdicts[0]).toMatch(/With a single run of b there is no estimate of seed-to-seed noise/);
  });

  it('refuses duplicate variant names (the CLI makes them unique)', () => {
    expect(() => compareView({ variants: [variant('a', [0.9]), variant('a', [0.8])] })).toThrow(/not unique/);
  });
});

describe('compareReport', () => {
  it('writes Markdown with PNG curves beside it and self-contained HTML with inline SVG', async () => {
    const report = await compareReport(
      { variants: [variant('res|net', [0.9, 0.91, 0.92]), variant('<plain>', [0.9, 0.905, 0.91])] },
      { pixelRatio: 1 },
    );
    const md = report.markdown;
    expect(md.startsWith('<!-- Generated by netspec compare. Do not edit')).toBe(true);
    expect(md).toContain('# Comparison: res\\|net vs \\<plain\\>');
    expect(md).toContain(
      '| res\\|net | specs/res\\|net.yaml | 11,175,434 (11.18 M) | 35,562,496 (35.56 M) | 3 (seeds 0, 1, 2) | 0.9200 ± 0.0100 (n=3) | 0.9100 ± 0.0100 (n=3) | 11.0 s ± 1.0 s (n=3) | cpu |',
    );
    expect(md).toContain(`![training loss of each variant](./${COMPARE_IMAGES.lossPng})`);
    expect(md).toContain(`![dev accuracy of each variant](./${COMPARE_IMAGES.accuracyPng})`);
    expect(md).toContain('## Verdict\n\n- Test accuracy: res\\|net 0.9100 vs \\<plain\\> 0.9050.');

    const html = report.html;
    expect(html).toContain('<title>Comparison: res|net vs &lt;plain&gt;</title>');
    expect(html).not.toContain('<plain>');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // The only URLs are the SVG namespace names, which are never fetched.
    const urls = [...html.matchAll(/https?:\/\/[^"'\s)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));

    expect([...report.images.keys()]).toEqual([
      'compare-loss.svg',
      'compare-loss.png',
      'compare-accuracy.svg',
      'compare-accuracy.png',
    ]);
    const png = report.images.get('compare-loss.png');
    expect(png instanceof Uint8Array && [...png.subarray(1, 4)]).toEqual([80, 78, 71]);
    expect(report.images.get('compare-loss.svg')).toBe(html.match(/<svg .*?<\/svg>/s)?.[0]);
  });

  it('is deterministic', async () => {
    const input = { variants: [variant('a', [0.9, 0.91]), variant('b', [0.8, 0.85])] };
    const one = await compareReport(input, { pixelRatio: 1 });
    const two = await compareReport(structuredClone(input), { pixelRatio: 1 });
    expect(two.markdown).toBe(one.markdown);
    expect(two.html).toBe(one.html);
  });
});

describe('variantCost', () => {
  it('counts trainable parameters as torchsummary does for the seed networks', () => {
    const residual = compileSpec('specs/resnet18.yaml', fileHost).ir;
    const plain = compileSpec('specs/resnet18-plain.yaml', fileHost).ir;
    if (!residual || !plain) throw new Error('the canonical specs do not compile');
    const r = variantCost(residual);
    const p = variantCost(plain);
    expect(r.params).toBe(11_175_434);
    expect(p.params).toBe(11_001_610);
    // The plain variant drops the three 1x1 stride-2 shortcut convolutions and their batchnorms (one MAC per
    // element): 128*4*4*64 + 256*2*2*128 + 512*1*1*256 = 393,216, plus 2,048 + 1,024 + 512 = 3,584.
    expect(r.macs - p.macs).toBe(396_800);
  });
});
