/**
 * Issue 10's process cases with real `netspec` processes: SIGTERM and SIGHUP stop a run as Ctrl-C does (the step
 * finishes, checkpoints/last is written, exit 130, the lock is released, `--resume` continues); a closed stdout
 * ends report commands quietly (exit 0) and stops a run cleanly with a checkpoint.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli } from '../support/cli.js';
import { SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;
/** 5 epochs of 4 steps. */
const OPTIONS = ['--epochs', '5', ...SMALL_RUN, '--eval-steps', '4'];
/** tfjs's one-time advice about tfjs-node, which it prints to stderr in every process. */
const TFJS_ADVICE = /=+\nHi, looks like[^\n]*\n=+\n/g;

let weights: string;
let input: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-stops-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
  const trained = path.join(tmp, 'trained');
  expect((await cli('run', spec, '--epochs', '1', '--out', trained, ...SMALL_RUN)).code).toBe(0);
  weights = path.join(tmp, 'w.safetensors');
  const exported = await cli(
    'export-weights',
    spec,
    '--checkpoint',
    path.join(trained, 'checkpoints', 'last'),
    '-o',
    weights,
  );
  expect(exported.code).toBe(0);
  input = path.join(tmp, 'x.safetensors');
  fs.writeFileSync(
    input,
    encodeSafetensors(
      new Map([['input', { dtype: 'F32', shape: [4, 1, 8, 8], data: new Float32Array(256) }]]),
    ),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `netspec <args>` in a child process; `onStdout` sees the output so far and may signal the child or close
 * its stdout (`close()`: the reading end of the pipe goes away, as when `head` exits).
 */
function child(
  args: readonly string[],
  onStdout: (out: string, control: { kill(s: NodeJS.Signals): void; close(): void }) => void = () => {},
  closeAtStart = false,
): Promise<Ended> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/netspec-child.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The reading end goes away before the command writes anything: its first write meets a closed pipe.
  if (closeAtStart) proc.stdout.destroy();
  let stdout = '';
  let stderr = '';
  const control = { kill: (s: NodeJS.Signals) => proc.kill(s), close: () => proc.stdout.destroy() };
  proc.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  proc.stdout.on('data', (d: Buffer) => {
    stdout += String(d);
    onStdout(stdout, control);
  });
  return new Promise((resolve) =>
    proc.on('exit', (code, signal) =>
      resolve({ code, signal, stdout, stderr: stderr.replace(TFJS_ADVICE, '') }),
    ),
  );
}

function metricsOf(out: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
}

/** Checks a run stopped early: exit 130, its last checkpoint at the step it names, no lock; then resumes it. */
async function expectStoppedAndResumable(out: string, run: Ended): Promise<void> {
  expect([run.code, run.signal]).toEqual([130, null]);
  const stopped =
    /\[Train\] stopped at epoch \d\/5, step (\d+)\/20; continue with: netspec run \S+ --out \S+ --resume\n/.exec(
      fs.readFileSync(path.join(out, 'train.log'), 'utf8'),
    );
  expect(stopped).not.toBeNull();
  const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
  expect(last.meta.progress?.globalStep).toBe(Number(stopped?.[1]));
  expect(metricsOf(out).status).toBe('interrupted');
  expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);
  const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
  expect(resumed.code).toBe(0);
  expect(metricsOf(out).steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
}

describe('22: SIGTERM and SIGHUP stop a run as Ctrl-C does', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const)
    it(`${signal}: the step finishes, checkpoints/last is written, exit 130, the lock is released`, async () => {
      const out = path.join(tmp, signal);
      let sent = false;
      const run = await child(['run', spec, '--out', out, ...OPTIONS], (stdout, c) => {
        if (!sent && stdout.includes('[Train] epoch: 0/5, step: 1/20')) {
          sent = true;
          c.kill(signal);
        }
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain(
        `[Train] stopped by ${signal}: finishing the current step and writing checkpoints/last (${signal} again to quit now)\n`,
      );
      await expectStoppedAndResumable(out, run);
    });
});

describe('12: a closed stdout', () => {
  it('ends report commands and predict quietly with exit 0 (summary --format json | head -c 0)', async () => {
    for (const args of [
      ['summary', 'specs/resnet50.yaml', '--format', 'json'],
      ['check', 'specs/resnet18.yaml', 'specs/resnet50.yaml'],
      ['predict', spec, '--weights', weights, '--input', input, '--backend', 'cpu'],
    ]) {
      const ended = await child(args, undefined, true);
      expect(ended.stderr, args.join(' ')).toBe('');
      expect([ended.code, ended.signal], args.join(' ')).toEqual([0, null]);
    }
  });

  it('stops a run cleanly with a checkpoint (netspec run | head -3), which --resume continues', async () => {
    const out = path.join(tmp, 'closed');
    let closed = false;
    const run = await child(['run', spec, '--out', out, ...OPTIONS], (stdout, c) => {
      if (!closed && stdout.split('\n').length > 3) {
        closed = true;
        c.close();
      }
    });
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stderr).toContain(
      '[Train] stdout was closed: finishing the current step and writing checkpoints/last\n',
    );
    expect(run.stderr).toMatch(/continue with: netspec run \S+ --out \S+ --resume\n$/);
    await expectStoppedAndResumable(out, run);
  });
});
