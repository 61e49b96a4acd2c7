/**
 * No write permission, a read-only file system or a full disk while netspec writes: a non-zero exit naming the
 * path, never a stack trace, never a line claiming something was saved, and nothing half-written left behind.
 * The tests run as root, where chmod does not stop writes, so the faults are injected into `fs` (support.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli, predictOnCpu } from '../support/cli.js';
import { injectFault, leftovers, SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;
let restore: (() => number) | undefined;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-disk-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
});
afterEach(() => {
  restore?.();
  restore = undefined;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** What a failed run printed must not claim that it finished or wrote its outputs. */
function expectNoSavedLine(stdout: string): void {
  expect(stdout).not.toMatch(/^wrote /m);
  expect(stdout).not.toContain('[Train] Training done!');
}

describe('netspec run', () => {
  it('a full disk while saving the first checkpoint: exit 1 naming it, no partial folder', async () => {
    const out = path.join(tmp, 'full-ckpt');
    restore = injectFault({
      point: 'write',
      code: 'ENOSPC',
      matches: (f) => f.includes(`${path.sep}checkpoints${path.sep}`),
    });
    const run = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    expect(restore()).toBeGreaterThan(0);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot write ${path.join(out, 'checkpoints', 'best')}: no space left on device; the checkpoint was not saved\n`,
    );
    expectNoSavedLine(run.stdout);
    expect(fs.readdirSync(path.join(out, 'checkpoints'))).toEqual([]);
    // The best model's line comes only after its checkpoint is on disk.
    expect(run.stdout).not.toContain('best accuracy performance has been updated');
  });

  it('a full disk while replacing checkpoints/last: the previous one stays in place and loads', async () => {
    const out = path.join(tmp, 'full-last');
    // checkpoints/last is written at the end of each of the 2 epochs; the second write fails half-way.
    restore = injectFault({
      point: 'write',
      code: 'ENOSPC',
      matches: (f) =>
        f.includes(`${path.sep}.last.tmp-`) && fs.existsSync(path.join(out, 'checkpoints', 'last')),
    });
    const run = await cli('run', spec, '--epochs', '2', '--out', out, ...SMALL_RUN);
    restore();
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot write ${path.join(out, 'checkpoints', 'last')}: no space left on device; the checkpoint was not saved\n`,
    );
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stdout).not.toMatch(/^wrote /m);
    expect(leftovers(path.join(out, 'checkpoints'))).toEqual([]);
    const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
    expect(last.meta.progress).toMatchObject({ epoch: 1, globalStep: 4 });
    // The run can go on once there is room again.
    const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.code).toBe(0);
    expect(loadCheckpoint(path.join(out, 'checkpoints', 'last')).meta.progress).toMatchObject({ epoch: 2 });
  });

  it('no permission to create the run folder: exit 1 naming it, nothing created', async () => {
    const out = path.join(tmp, 'denied', 'run');
    restore = injectFault({
      point: 'mkdir',
      code: 'EACCES',
      matches: (f) => f.startsWith(path.join(tmp, 'denied')),
    });
    const run = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    restore();
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: cannot write ${out}: permission denied; nothing was written\n`);
    expectNoSavedLine(run.stdout);
    expect(fs.existsSync(path.join(tmp, 'denied'))).toBe(false);
  });

  it('a read-only file system under metrics.json and a full disk under train.log: exit 1 naming the file', async () => {
    const out1 = path.join(tmp, 'ro-metrics');
    restore = injectFault({
      point: 'open',
      code: 'EROFS',
      // metrics.json and the temporary file it is written to first (.metrics.json.tmp-*).
      matches: (f) => path.dirname(f) === out1 && path.basename(f).includes('metrics.json'),
    });
    const metrics = await cli('run', spec, '--epochs', '1', '--out', out1, ...SMALL_RUN);
    restore();
    expect(metrics.code).toBe(1);
    expect(metrics.stderr).toBe(
      `error: cannot write ${path.join(out1, 'metrics.json')}: read-only file system\n`,
    );
    expectNoSavedLine(metrics.stdout);
    expect(leftovers(out1)).toEqual([]);

    const out2 = path.join(tmp, 'full-log');
    restore = injectFault({
      point: 'append',
      code: 'ENOSPC',
      matches: (f) => f === path.resolve(out2, 'train.log'),
    });
    const log = await cli('run', spec, '--epochs', '1', '--out', out2, ...SMALL_RUN);
    restore();
    expect(log.code).toBe(1);
    expect(log.stderr).toBe(`error: cannot write ${path.join(out2, 'train.log')}: no space left on device\n`);
    expectNoSavedLine(log.stdout);
  });
});

describe('netspec compile', () => {
  it.each([
    ['EACCES', 'mkdir', 'permission denied'],
    ['ENOSPC', 'write', 'no space left on device'],
  ] as const)(
    '%s while writing the output folder: exit 1 naming it, nothing written',
    async (code, point, reason) => {
      const out = path.join(tmp, `compile-${code}`, 'out');
      restore = injectFault({ point, code, matches: (f) => f.startsWith(path.join(tmp, `compile-${code}`)) });
      const run = await cli('compile', 'specs/lenet5.yaml', '-o', out);
      restore();
      expect(run).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: cannot write ${out}: ${reason}; nothing was written\n`,
      });
      expect(fs.existsSync(out)).toBe(false);
      expect(leftovers(path.dirname(out))).toEqual([]);
    },
  );
});

describe('netspec export-weights and predict', () => {
  it('EACCES or ENOSPC on the output file: exit 1 naming it, no file and no temporary file; EACCES on an input file: exit 1 naming it', async () => {
    const out = path.join(tmp, 'for-export');
    const trained = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    expect(trained.code).toBe(0);
    const checkpoint = path.join(out, 'checkpoints', 'best');
    const weights = path.join(tmp, 'w.safetensors');

    // The file and the temporary file it is written to first (.w.safetensors.tmp-*).
    const isWeights = (f: string): boolean => path.dirname(f) === tmp && f.includes('w.safetensors');
    restore = injectFault({ point: 'open', code: 'EACCES', matches: isWeights });
    const denied = await cli('export-weights', spec, '--checkpoint', checkpoint, '-o', weights);
    restore();
    expect(denied).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot write ${weights}: permission denied; nothing was written\n`,
    });
    expect(fs.readdirSync(tmp).filter((f) => f.includes('w.safetensors'))).toEqual([]);

    // A failure reading the checkpoint is exit 1 naming the checkpoint and the file, no stack trace.
    const unreadable = path.join(checkpoint, 'weights.safetensors');
    restore = injectFault({ point: 'open', code: 'EACCES', matches: (f) => f === path.resolve(unreadable) });
    const cannotRead = await cli('export-weights', spec, '--checkpoint', checkpoint, '-o', weights);
    restore();
    expect(cannotRead).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${checkpoint}: file 'weights.safetensors': permission denied\n`,
    });

    const ok = await cli('export-weights', spec, '--checkpoint', checkpoint, '-o', weights);
    expect(ok.code).toBe(0);
    const input = path.join(tmp, 'x.safetensors');
    fs.writeFileSync(
      input,
      encodeSafetensors(
        new Map([['input', { dtype: 'F32', shape: [1, 1, 8, 8], data: new Float32Array(64) }]]),
      ),
    );
    const output = path.join(tmp, 'y.safetensors');
    restore = injectFault({
      point: 'write',
      code: 'ENOSPC',
      matches: (f) => path.dirname(f) === tmp && f.includes('y.safetensors'),
    });
    const full = await predictOnCpu(spec, weights, input, '--output', output);
    restore();
    expect(full).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot write ${output}: no space left on device; nothing was written\n`,
    });
    expect(fs.readdirSync(tmp).filter((f) => f.includes('y.safetensors'))).toEqual([]);
  });
});
