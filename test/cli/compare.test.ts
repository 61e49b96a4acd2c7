/**
 * `netspec compare` end to end, in-process, on the cpu backend: two tiny networks on 64 mnist-sample digits
 * resized to 8x8, two seeds each, one epoch, so the whole comparison takes a few seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli } from '../support/cli.js';

const spec = (name: string, width: number) => `netspec: 1
name: ${name}
params: {num_classes: 10}
input: [1, 8, 8]
modules:
  - body:
      - conv: {out: ${width}, kernel: 3, padding: 1, bias: false}
      - batchnorm
      - relu
  - head: [global_avgpool, flatten, linear: {out: $num_classes}]
`;

const SMALL = [
  '--epochs',
  '1',
  '--train',
  '64',
  '--dev',
  '32',
  '--test',
  '32',
  '--batch-size',
  '16',
  '--backend',
  'cpu',
];
let tmp: string;
let narrow: string;
let wide: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compare-'));
  narrow = path.join(tmp, 'narrow.yaml');
  wide = path.join(tmp, 'wide.yaml');
  fs.writeFileSync(narrow, spec('narrow', 4));
  fs.writeFileSync(wide, spec('wide', 8));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const metricsOf = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as RunMetrics;

describe('netspec compare', () => {
  it('trains every spec with seeds 0..N-1, passes run options through, and writes the report', async () => {
    const out = path.join(tmp, 'cmp');
    const run = await cli(
      'compare',
      narrow,
      wide,
      '--seeds',
      '2',
      '--out',
      out,
      '--eval-steps',
      '2',
      ...SMALL,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `== compare 1/4: narrow (${narrow}), seed 0 -> ${path.join(out, 'narrow', 'seed-0')}`,
    );
    expect(run.stdout).toContain(
      `== compare 4/4: wide (${wide}), seed 1 -> ${path.join(out, 'wide', 'seed-1')}`,
    );
    expect(run.stdout).toMatch(/\nnarrow: best dev accuracy \d\.\d{4} ± \d\.\d{4} \(n=2\), test accuracy/);

    for (const name of ['narrow', 'wide'])
      for (const seed of [0, 1]) {
        const m = metricsOf(path.join(out, name, `seed-${seed}`));
        expect(m.network).toBe(name);
        expect(m.status).toBe('completed');
        expect(m.config.training.seed).toBe(seed);
        expect(m.config.training.batchSize).toBe(16);
        expect(m.config.training.evalSteps).toBe(2);
        // a default of `run` that compare did not pass stays run's default
        expect(m.config.training.lr).toBe(0.005);
        expect(m.data.train).toBe(64);
        expect(m.evaluations.map((e) => e.step)).toEqual([2, 3]);
      }

    const files = fs.readdirSync(out).sort();
    expect(files).toEqual([
      '.netspec.json',
      'compare-accuracy.png',
      'compare-accuracy.svg',
      'compare-loss.png',
      'compare-loss.svg',
      'compare.html',
      'compare.md',
      'narrow',
      'wide',
    ]);
    const md = fs.readFileSync(path.join(out, 'compare.md'), 'utf8');
    expect(md).toContain('# Comparison: narrow vs wide');
    // trainable params: conv 9*w, BN 2*w, linear w*10 + 10
    expect(md).toMatch(/\n\| narrow \| .*narrow\.yaml \| 94 \| /);
    expect(md).toMatch(/\n\| wide \| .*wide\.yaml \| 178 \| /);
    expect(md).toContain('| narrow | 1 | ');
    expect(md).toContain(`| ${path.join('narrow', 'seed-1')} |`);
    const html = fs.readFileSync(path.join(out, 'compare.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
  });

  it('checks every spec and every run folder before training anything', async () => {
    const out = path.join(tmp, 'cmp'); // exists from the test above
    const again = await cli('compare', narrow, wide, '--seeds', '2', '--out', out, ...SMALL);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `error: ${out} holds an earlier comparison; pass --resume to continue it or --force to replace its runs and report\n`,
    );
    expect(again.stdout).not.toContain('== compare');
    // A comparison stopped before its report: each run folder is checked before anything trains.
    const partial = path.join(tmp, 'partial');
    fs.cpSync(path.join(out, 'narrow'), path.join(partial, 'narrow'), { recursive: true });
    const stopped = await cli('compare', narrow, wide, '--seeds', '2', '--out', partial, ...SMALL);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/narrow[/\\]seed-0 exists and is not empty; pass --resume .* or --force/);
    expect(stopped.stdout).not.toContain('== compare');

    const fresh = path.join(tmp, 'never');
    const broken = path.join(tmp, 'broken.yaml');
    fs.writeFileSync(broken, spec('broken', 4).replace('kernel: 3', 'kernel: 30'));
    const bad = await cli('compare', narrow, broken, '--out', fresh, ...SMALL);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('broken.yaml');
    expect(fs.existsSync(fresh)).toBe(false);

    const one = await cli('compare', narrow, '--out', fresh, ...SMALL);
    expect(one.code).toBe(1);
    expect(one.stderr).toContain('compare needs at least two specs');
  });

  it('resumes into the existing run folders and gives the same report', async () => {
    const out = path.join(tmp, 'cmp');
    const before = fs.readFileSync(path.join(out, 'compare.md'), 'utf8');
    const run = await cli(
      'compare',
      narrow,
      wide,
      '--seeds',
      '2',
      '--out',
      out,
      '--eval-steps',
      '2',
      '--resume',
      ...SMALL,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('training was complete; testing the best model again');
    const after = fs.readFileSync(path.join(out, 'compare.md'), 'utf8');
    // Only the timings may change (a resumed run adds this session's wall time to nothing: training is done).
    const strip = (s: string) => s.replace(/\d+\.\d s( ± \d+\.\d s)?/g, 'T');
    expect(strip(after)).toBe(strip(before));
  });

  it('names duplicate networks apart', async () => {
    const out = path.join(tmp, 'dup');
    const run = await cli('compare', narrow, narrow, '--seeds', '1', '--out', out, ...SMALL);
    expect(run.code, run.stderr).toBe(0);
    expect(fs.readdirSync(out).filter((f) => !f.includes('.'))).toEqual(['narrow', 'narrow-2']);
    expect(fs.readFileSync(path.join(out, 'compare.md'), 'utf8')).toContain(
      'With a single run of narrow there is no estimate',
    );
  });
});
