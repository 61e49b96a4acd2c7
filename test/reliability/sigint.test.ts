/**
 * A real SIGINT to a real `netspec run` process: the current step finishes, checkpoints/last is written, the
 * process exits with 130, and `--resume` completes the run from there. A second SIGINT
 * quits at once (exit 130, maybe before the checkpoint); the run folder stays usable either way.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli } from '../support/cli.js';
import { SMALL_RUN, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;
/** 5 epochs of 4 steps, a dev evaluation every 4 steps. */
const OPTIONS = ['--epochs', '5', ...SMALL_RUN, '--eval-steps', '4'];

/** The double-SIGINT run starts with the file so that its process overlaps the first test (each takes seconds). */
let twice: ReturnType<typeof interruptedRun>;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-sigint-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
  twice = interruptedRun(path.join(tmp, 'twice'), '[Train] epoch: 1/5, step: 5/20', true);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function metricsOf(out: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
}

/** Runs `netspec run` in a child process, sends SIGINT once it prints `trigger`, and again (Ctrl-C twice) if `again`. */
async function interruptedRun(
  out: string,
  trigger: string,
  again: boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/reliability/netspec-child.ts', 'run', spec, '--out', out, ...OPTIONS],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let sent = 0;
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  child.stdout.on('data', (d: Buffer) => {
    stdout += String(d);
    if (sent === 0 && stdout.includes(trigger)) {
      sent = 1;
      child.kill('SIGINT');
    }
    if (again && sent === 1 && stdout.includes('[Train] interrupted:')) {
      sent = 2;
      child.kill('SIGINT');
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  return { code, signal, stdout, stderr };
}

describe('SIGINT during netspec run', () => {
  it('finishes the step, writes checkpoints/last, exits 130; --resume completes the run', async () => {
    const out = path.join(tmp, 'interrupted');
    const run = await interruptedRun(out, '[Train] epoch: 0/5, step: 1/20', false);
    expect(run.stderr.replace(/=+\nHi, looks like[^\n]*\n=+\n/g, '')).toBe('');
    expect([run.code, run.signal]).toEqual([130, null]);
    expect(run.stdout).toContain(
      '[Train] interrupted: finishing the current step and writing checkpoints/last (Ctrl-C again to quit now)',
    );
    const stopped =
      /\[Train\] stopped at epoch (\d)\/5, step (\d+)\/20; continue with: netspec run (\S+) --out (\S+) --resume\n/.exec(
        run.stdout,
      );
    expect(stopped?.slice(3)).toEqual([spec, out]);
    const step = Number(stopped?.[2]);
    expect(step).toBeGreaterThanOrEqual(2);
    expect(step).toBeLessThan(20);
    // The last step logged is the last one taken, and checkpoints/last holds the state right after it.
    const logged = [...run.stdout.matchAll(/\[Train\] epoch: \d\/5, step: (\d+)\/20/g)].map((m) =>
      Number(m[1]),
    );
    expect(logged.at(-1)).toBe(step - 1);
    const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
    expect(last.meta.progress?.globalStep).toBe(step);
    expect(metricsOf(out).status).toBe('interrupted');
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);

    const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`[Resume] from ${path.join(out, 'checkpoints', 'last')}: epoch `);
    // Every step taken once, in order (that the numbers equal an uninterrupted run's is test/cli/run.test.ts's).
    const metrics = metricsOf(out);
    expect(metrics).toMatchObject({ status: 'completed', resumes: 1 });
    expect(metrics.steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(metrics.steps.slice(0, step)).toEqual(last.meta.history?.steps);
  });

  it('Ctrl-C twice (quit now): exit 130, and the folder resumes (its lock taken over, its last checkpoint complete)', async () => {
    const out = path.join(tmp, 'twice');
    const run = await twice;
    // 130 from netspec, or death by the signal itself when it lands in the last milliseconds, after the handler is
    // gone: a shell reports both as exit status 130.
    expect([
      [130, null],
      [null, 'SIGINT'],
    ]).toContainEqual([run.code, run.signal]);
    const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
    expect(last.meta.progress?.globalStep).toBeGreaterThanOrEqual(4);
    const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(metricsOf(out).status).toBe('completed');
    expect(metricsOf(out).steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(fs.readdirSync(path.join(out, 'checkpoints')).sort()).toEqual(['best', 'last']);
  });
});
