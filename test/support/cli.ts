/** Runs the CLI in-process and captures what it prints. */
import { runCli } from '../../src/cli/main.js';

/** The result of one CLI invocation. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `netspec <argv>` in this process. */
export async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) });
  return { code, stdout, stderr };
}

/** A spec that trains in well under a second per epoch on 64 digits resized to 8x8 (with {@link SMALL_RUN}). */
export const TINY8_SPEC = `netspec: 1
name: tiny8
params: {num_classes: 10}
input: [1, 8, 8]
modules:
  - body:
      - conv: {out: 4, kernel: 3, padding: 1, bias: false}
      - batchnorm
      - relu
  - head: [global_avgpool, flatten, linear: {out: $num_classes}]
`;

/** `netspec run` options that keep a run to a few seconds on the cpu backend. */
export const SMALL_RUN = [
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
  '--log-steps',
  '1',
  '--eval-steps',
  '1',
];

/** `netspec predict <spec> --weights W --input X --backend cpu ...more`, in this process. */
export function predictOnCpu(
  spec: string,
  weights: string,
  input: string,
  ...more: string[]
): Promise<CliRun> {
  return cli('predict', spec, '--weights', weights, '--input', input, '--backend', 'cpu', ...more);
}
