/**
 * The PyTorch side of `netspec bench` with programs that are not the benchmark: a Python that is missing is a
 * skip reason; one that runs and prints something other than torch-bench.py's timings is a BackendError naming
 * the program and its first bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchPytorch, parseScriptOutput } from '../../../src/runtime/bench/pytorch-bench.js';
import { compileIr } from '../../support/compile.js';
import { PYTHON, pythonHas } from '../../support/torch.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-pybench-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An executable that ignores its arguments, prints `output` and exits 0 (so the torch probe passes). */
function fakePython(name: string, output: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `#!/bin/sh\nprintf '%s' '${output.replace(/'/g, "'\\''")}'\n`, { mode: 0o755 });
  return file;
}

const ir = compileIr('specs/lenet5.yaml');
const options = { threads: 1, device: 'cpu', batchSize: 2, warmup: 0, repeats: 2, lr: 0.005, seed: 0 };
const good = {
  torch: '2.1.0',
  threads: 1,
  device: 'cpu',
  forwardMs: [1.5, 1.25],
  stepMs: [3, 2.5],
  peakRssMiB: 100,
};

describe('benchPytorch with a program that is not the benchmark', () => {
  it('a program printing text: BackendError naming the program and what it printed', async () => {
    const python = fakePython('chatty', 'Hello from not-python\nsecond line');
    const run = benchPytorch(ir, { ...options, python });
    await expect(run).rejects.toMatchObject({ name: 'BackendError' });
    await expect(run).rejects.toThrow(
      `PyTorch benchmark: ${python} torch-bench.py printed "Hello from not-python\\nsecond line"; its last line ` +
        "is not JSON (expected torch-bench.py's timings; is --python a Python with torch?)",
    );
  });

  it('a program printing nothing, or JSON without the timings', async () => {
    await expect(benchPytorch(ir, { ...options, python: fakePython('silent', '') })).rejects.toThrow(
      'printed nothing; its last line is not JSON',
    );
    const partial = fakePython('partial', JSON.stringify({ ...good, stepMs: 'fast' }));
    await expect(benchPytorch(ir, { ...options, python: partial })).rejects.toThrow(
      "'stepMs' is not a list of 2 times in ms",
    );
  });

  it('long output is cut to its first 200 characters', async () => {
    const python = fakePython('long', 'x'.repeat(5000));
    await expect(benchPytorch(ir, { ...options, python })).rejects.toThrow(
      `printed "${'x'.repeat(200)}"… (5000 characters); its last line is not JSON`,
    );
  });

  it('a missing program is still a skip reason, not an error', async () => {
    const python = path.join(tmp, 'no-such-python');
    expect(await benchPytorch(ir, { ...options, python })).toEqual({
      available: false,
      reason: `${python} not found`,
    });
  });
});

describe.skipIf(!pythonHas('PyTorch on --torch-device cuda'))('benchPytorch on CUDA', () => {
  it('runs there, or is a skip reason saying torch sees no CUDA device', async () => {
    const result = await benchPytorch(ir, { ...options, python: PYTHON, device: 'cuda' });
    if (result.available) expect(result.device).toMatch(/^cuda:0 \(.+\)$/);
    else expect(result.reason).toMatch(/^PyTorch run failed: torch \S+ sees no CUDA device/);
  }, 60_000);
});

describe('parseScriptOutput', () => {
  it('takes the last line of the real format', () => {
    expect(parseScriptOutput(`warning: something\n${JSON.stringify(good)}\n`, 2)).toEqual(good);
  });

  it.each([
    ['[1, 2]', 'its last line is not a JSON object'],
    [JSON.stringify({ ...good, torch: 2 }), "'torch' (the version) is not a string"],
    [JSON.stringify({ ...good, threads: 1.5 }), "'threads' is not an integer"],
    [JSON.stringify({ ...good, device: 0 }), "'device' is not a string"],
    [JSON.stringify({ ...good, forwardMs: [1] }), "'forwardMs' is not a list of 2 times in ms"],
    [JSON.stringify({ ...good, forwardMs: [1, -1] }), "'forwardMs' is not a list of 2 times in ms"],
    [JSON.stringify({ ...good, peakRssMiB: null }), "'peakRssMiB' is not a number"],
  ])('%s: %s', (line, why) => {
    expect(parseScriptOutput(line, 2)).toBe(why);
  });
});
