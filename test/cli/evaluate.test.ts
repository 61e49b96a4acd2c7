/** `netspec evaluate --json`: the final metrics as one JSON object on stdout, the other lines on stderr. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationJson } from '../../src/cli/evaluate.js';
import { formatFixed } from '../../src/runtime/train/log-lines.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli, SMALL_RUN } from '../support/cli.js';

const SPEC = `netspec: 1
name: tiny8
input: [1, 8, 8]
modules:
  - body: [conv: {out: 4, kernel: 3, padding: 1, bias: false}, batchnorm, relu]
  - head: [global_avgpool, flatten, linear: {out: 10}]
`;

let tmp: string;
let spec: string;
let out: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-evaluate-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, SPEC);
  out = path.join(tmp, 'run');
  expect((await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN)).code).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('netspec evaluate --json', () => {
  it("prints the run's test metrics as JSON on stdout, and what it evaluated on stderr", async () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
    const run = await cli('evaluate', spec, '--checkpoint', out, '--backend', 'cpu', '--json');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as EvaluationJson;
    expect(Object.keys(json)).toEqual(['accuracy', 'loss', 'count', 'split', 'checkpoint']);
    expect(json).toMatchObject({ count: 32, split: 'test', checkpoint: out });
    // The same evaluation as the run's test line (the best model on the 32 test digits).
    expect(formatFixed(json.accuracy, 4)).toBe(formatFixed(metrics.test?.accuracy ?? NaN, 4));
    expect(formatFixed(json.loss, 4)).toBe(formatFixed(metrics.test?.loss ?? NaN, 4));
    expect(run.stderr).toContain('backend: cpu\n');
    expect(run.stderr).toContain(`checkpoint: ${path.join(out, 'checkpoints', 'best')} (best model:`);

    const dev = await cli(
      'evaluate',
      spec,
      '--checkpoint',
      out,
      '--backend',
      'cpu',
      '--split',
      'dev',
      '--json',
    );
    expect(JSON.parse(dev.stdout)).toMatchObject({ count: 32, split: 'dev' });
  });
});
