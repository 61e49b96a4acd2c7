/**
 * The console of `netspec run` (src/cli/console.ts), driven with synthetic events, no training: the plain output
 * of each verbosity (golden files in test/fixtures/console/), the colour rules by environment, the bar's layout
 * over a grid of widths, the smoothed ETA, and the bar as a real pseudo-terminal of 60 and 160 columns shows it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Command } from 'commander';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import {
  barLine,
  clock,
  colorLevel,
  consoleOptions,
  createTerminalOutput,
  errorLine,
  TerminalOutput,
  type BarView,
  type ConsoleSettings,
} from '../../src/cli/console.js';
import type { CliIo } from '../../src/cli/io.js';
import { expectGolden } from '../support/golden.js';
import { playRun } from './console-events.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GOLDEN = path.join(ROOT, 'test/fixtures/console');
const ESC = '\x1b[';

/** A CliIo that keeps what is written (not the process's streams: no bar, and colour only by FORCE_COLOR). */
function bufferIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
  };
  return io;
}

async function playPlain(settings: ConsoleSettings, env: NodeJS.ProcessEnv = {}) {
  const io = bufferIo();
  await playRun(createTerminalOutput(io, settings, env), async () => {});
  return io;
}

describe('plain output (not a terminal)', () => {
  it.each([
    ['normal', {}],
    ['quiet', { quiet: true }],
    ['verbose', { verbose: true }],
  ] as const)('%s: the lines, no bar, no escape codes', async (name, settings) => {
    const { out, err } = await playPlain(settings);
    expect(out + err).not.toContain('\x1b');
    expectGolden(path.join(GOLDEN, `plain-${name}.txt`), `-- stdout\n${out}-- stderr\n${err}`);
  });

  it('quiet keeps only the warnings and the result lines', async () => {
    const { out, err } = await playPlain({ quiet: true });
    expect(out.trimEnd().split('\n')).toEqual([
      'warning: dev accuracy is below 0.5 after 2 epochs',
      '[Test] accuracy 0.5000, loss 1.1000',
      'wrote runs/tiny8: train.log, metrics.json, checkpoints/best, checkpoints/last',
    ]);
    expect(err).toBe('');
  });

  it('verbose adds the detail lines after the backend line', async () => {
    const { out } = await playPlain({ verbose: true });
    expect(out).toContain('backend: cpu\n  webgpu: no adapter (navigator.gpu is missing)\n  wasm: slower');
    expect((await playPlain({})).out).not.toContain('webgpu:');
  });
});

describe('colour', () => {
  it('follows FORCE_COLOR, NO_COLOR, TERM and whether the stream is a terminal', () => {
    expect(colorLevel({}, true)).toBe(1);
    expect(colorLevel({}, false)).toBe(0);
    expect(colorLevel({ NO_COLOR: '1' }, true)).toBe(0);
    expect(colorLevel({ NO_COLOR: '' }, true)).toBe(1); // only a non-empty NO_COLOR counts
    expect(colorLevel({ TERM: 'dumb' }, true)).toBe(0);
    expect(colorLevel({ FORCE_COLOR: '1' }, false)).toBe(1);
    expect(colorLevel({ FORCE_COLOR: '' }, false)).toBe(1);
    expect(colorLevel({ FORCE_COLOR: 'true' }, false)).toBe(1);
    expect(colorLevel({ FORCE_COLOR: '2' }, false)).toBe(2);
    expect(colorLevel({ FORCE_COLOR: '3' }, false)).toBe(3);
    expect(colorLevel({ FORCE_COLOR: '0' }, true)).toBe(0);
    expect(colorLevel({ FORCE_COLOR: 'false' }, true)).toBe(0);
    // As in Node (tty.getColorDepth), FORCE_COLOR outranks NO_COLOR.
    expect(colorLevel({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(1);
  });

  it('FORCE_COLOR colours a pipe: best green, warning yellow, result bold, errors red', async () => {
    const { out, err } = await playPlain({}, { FORCE_COLOR: '1' });
    expect(out).toContain(`${ESC}32m[Evaluate] best accuracy updated 0.3000 -> 0.4000${ESC}39m\n`);
    expect(out).toContain(`${ESC}33mwarning: dev accuracy is below 0.5 after 2 epochs${ESC}39m\n`);
    expect(out).toContain(`${ESC}1m[Test] accuracy 0.5000, loss 1.1000${ESC}22m\n`);
    expect(out).toContain('\nbackend: cpu\n'.slice(1)); // plain lines stay plain
    expect(err).toBe('note: runs/tiny8 held an older run; it was put back\n');
    expect(errorLine('bad spec', bufferIo(), { FORCE_COLOR: '1' })).toBe(
      `${ESC}31merror: bad spec${ESC}39m\n`,
    );
  });

  it.each([{}, { FORCE_COLOR: '0' }, { NO_COLOR: '1' }, { CI: 'true' }])(
    'no escape codes on a pipe with %o',
    async (env) => {
      const { out, err } = await playPlain({}, env);
      expect(out + err).not.toContain('\x1b');
      expect(errorLine('bad spec', bufferIo(), env)).toBe('error: bad spec\n');
    },
  );
});

describe('options', () => {
  it('--quiet and --verbose exclude each other', () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    for (const option of consoleOptions()) program.addOption(option);
    expect(program.parse(['--quiet'], { from: 'user' }).opts()).toEqual({ quiet: true });
    expect(() => program.parse(['--quiet', '--verbose'], { from: 'user' })).toThrow(/cannot be used with/);
  });
});

const TRAIN: BarView = {
  label: 'epoch 100/100',
  done: 12345,
  total: 12345,
  unit: 'steps',
  elapsedSeconds: 5025,
  etaSeconds: 3599.6,
  training: true,
  imagesPerSecond: 123456.7,
  loss: 0.23456,
};
const EVALUATE: BarView = {
  label: 'test',
  done: 3,
  total: 40,
  unit: 'batches',
  elapsedSeconds: 2,
  etaSeconds: 25,
  training: false,
};

describe('bar layout', () => {
  it('formats times as m:ss and h:mm:ss', () => {
    expect([0, 4.4, 65, 3599.6, 3600, 5025].map(clock)).toEqual([
      '0:00',
      '0:04',
      '1:05',
      '1:00:00',
      '1:00:00',
      '1:23:45',
    ]);
  });

  it('shows every field on a wide terminal', () => {
    expect(barLine({ ...TRAIN, done: 45, total: 79, elapsedSeconds: 4, etaSeconds: 5 }, 160)).toBe(
      'epoch 100/100 [======================>                 ] 45/79 steps  123,457 img/s  0:04 elapsed  ' +
        'ETA 0:05  loss 0.2346',
    );
    expect(barLine(EVALUATE, 160)).toBe(`test [===>${' '.repeat(36)}]  3/40 batches  0:02 elapsed  ETA 0:25`);
    const { imagesPerSecond: _rate, loss: _loss, ...unknown } = TRAIN;
    expect(barLine(unknown, 160)).toMatch(/ {5}- img\/s .* loss -$/);
  });

  it('fits every width from 20 to 200 columns, dropping elapsed, then img/s, then loss, then shortening the bar', () => {
    const order = ['elapsed', 'img/s', 'loss'];
    for (const view of [TRAIN, EVALUATE, { ...TRAIN, done: 1 }])
      for (let columns = 20; columns <= 200; columns++) {
        const line = barLine(view, columns);
        expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns - 1);
        if (columns < 60) continue;
        expect(line).toMatch(/^(epoch 100\/100|test) \[[=> ]+\] +\d+\/\d+ (steps|batches)/);
        expect(line).toContain('ETA ');
        // Once a field is gone, every field before it in the drop order is gone too.
        const present = order.map((f) => line.includes(f) || !view.training);
        expect(present, `${columns}: ${line}`).toEqual([...present].sort());
        const bar = /\[([=> ]*)\]/.exec(line)?.[1] ?? '';
        if (present.some((p) => p)) expect(bar.length, line).toBeGreaterThanOrEqual(10);
      }
    expect(barLine(TRAIN, 60)).toBe('epoch 100/100 [============] 12345/12345 steps  ETA 1:00:00');
  });
});

/** A terminal stand-in for cli-progress: its columns, and what was drawn. */
function fakeTerminal(columns: number) {
  const terminal = { isTTY: true, columns, text: '', write: (s: string) => void (terminal.text += s) };
  return terminal;
}

describe('a bar on a terminal', () => {
  it('smooths the step time (moving average), counts down between steps, and has a phase per evaluation', () => {
    let now = 0;
    const terminal = fakeTerminal(160);
    const output = new TerminalOutput(bufferIo(), {
      verbosity: 'normal',
      colors: pc.createColors(false),
      bar: terminal,
      now: () => now,
    });
    output.startProgress({ kind: 'train', epoch: 0, epochs: 3, steps: 100, done: 0, batchSize: 32 });
    expect(output.barLineNow(160)).toMatch(
      /^epoch 1\/3 \[> +\]   0\/100 steps {7}- img\/s  0:00 elapsed  ETA -:--  loss -$/,
    );
    for (let s = 1; s <= 10; s++) {
      now += 100;
      output.progress(s, 1 / s);
    }
    // 10 steps of 0.1 s: 90 left take 9 s; 32 images / 0.1 s.
    expect(output.barLineNow(160)).toMatch(
      / 10\/100 steps     320 img\/s  0:01 elapsed  ETA 0:09  loss 0\.1000$/,
    );
    now += 1000;
    output.progress(11, 0.09);
    // One slow step (1 s) moves the average by a tenth of the difference: 0.19 s, so 89 x 0.19 = 16.9 s, not 89 s.
    expect(output.barLineNow(160)).toContain('     168 img/s  0:02 elapsed  ETA 0:17  loss 0.0900');
    now += 500;
    output.progress(16);
    // Five steps timed together (0.1 s each) weigh 1 - 0.9^5: 0.19 - 0.40951 x 0.09 = 0.15314 s; 84 left: 12.9 s.
    expect(output.barLineNow(160)).toContain('ETA 0:13  loss 0.0900');
    now += 3000;
    expect(output.barLineNow(160)).toContain('ETA 0:10');
    output.epochEnd({
      epoch: 0,
      epochs: 3,
      trainLoss: 0.5,
      trainAccuracy: 0.6,
      lr: 0.01,
      imagesPerSecond: 2048,
      epochSeconds: 1.5,
      elapsedSeconds: 1.5,
      improved: false,
    });
    expect(output.barLineNow(160)).toMatch(
      /^epoch 1\/3 \[=+\] 100\/100 steps   2,048 img\/s  0:02 elapsed  ETA 0:00  loss 0\.5000$/,
    );
    output.line('[Train] epoch 1/3: loss 0.5000', 'plain');
    output.startProgress({ kind: 'evaluate', split: 'dev', batches: 4 });
    expect(output.barLineNow(160)).toBe(`dev  [>${' '.repeat(39)}] 0/4 batches  0:00 elapsed  ETA -:--`);
    now += 200;
    output.progress(1);
    expect(output.barLineNow(160)).toContain('] 1/4 batches  0:00 elapsed  ETA 0:01');
    output.stopProgress();
    expect(output.barLineNow(160)).toBe('');
    // The logged line went to the terminal, above a redrawn bar; the bar was cleared at the end.
    const drawn = terminal.text.replace(/\x1b\[\d*G/g, '\r');
    expect(stripVTControlCharacters(drawn)).toMatch(
      /\[Train\] epoch 1\/3: loss 0\.5000\n\repoch 1\/3 \[=+\] 100\/100/,
    );
    expect(terminal.text.endsWith(`${ESC}0J`)).toBe(true);
  });
});

const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
if (!script)
  console.warn('console.test.ts: util-linux `script` not found; the pseudo-terminal tests are skipped');

/** The driver's output inside a pseudo-terminal of `columns`, as a terminal would show it, line by line. */
function ptyRun(columns: number): { bytes: string; lines: string[] } {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  for (const name of ['CI', 'FORCE_COLOR', 'NO_COLOR']) delete env[name];
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const driver = path.join(ROOT, 'test/cli/console-driver.ts');
  const bytes = execFileSync(
    script ?? 'script',
    ['-qfec', `stty cols ${columns} rows 20; ${tsx} ${driver}`, '/dev/null'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 },
  );
  // Each redraw moves the cursor to column 1 (CSI G): that starts a new line as far as the eye can tell.
  return { bytes, lines: stripVTControlCharacters(bytes.replace(/\x1b\[\d*G/g, '\r')).split(/[\r\n]+/) };
}

const BAR = /^(epoch \d\/\d|dev |test) \[[=> ]+\] /;

describe.skipIf(!script)('the bar in a pseudo-terminal (util-linux script)', () => {
  it('fits 160 columns with every field, a bar per epoch and one per evaluation', () => {
    const { bytes, lines } = ptyRun(160);
    const bars = lines.filter((l) => BAR.test(l));
    for (const l of bars) expect(l.length, l).toBeLessThanOrEqual(160);
    const train = bars.filter((l) => l.startsWith('epoch'));
    for (const l of train)
      expect(l, l).toMatch(
        /^epoch [12]\/2 \[[=> ]{40}\] +\d+\/12 steps +[-\d,]+ img\/s  \d:\d\d elapsed  ETA \S+  loss \S+$/,
      );
    // Each epoch has its own bar, counting its own 12 steps from the start.
    expect(train).toContainEqual(expect.stringMatching(/^epoch 1\/2 \[> +\]  0\/12 steps/));
    expect(train).toContainEqual(expect.stringMatching(/^epoch 2\/2 \[=*>? +\] +([0-9]|1[01])\/12 steps/));
    expect(bars).toContainEqual(expect.stringMatching(/^dev  \[.*\] \d\/8 batches/));
    expect(bars).toContainEqual(expect.stringMatching(/^test \[.*\] \d\/8 batches/));
    expect(bytes).toContain(`${ESC}32m[Evaluate] best accuracy updated 0.3000 -> 0.4000${ESC}39m`);
    // The run's lines are whole lines above the bar, in order.
    const story = lines.filter((l) => l && !BAR.test(l));
    expect(story).toEqual([
      'backend: cpu',
      'data: mnist-sample, 384 train / 64 dev / 64 test images of 1x8x8',
      'note: runs/tiny8 held an older run; it was put back',
      ...[1, 2].flatMap((e) => [
        `[Evaluate] epoch ${e}/2: dev accuracy 0.${e + 3}000, loss 1.2000`,
        `[Evaluate] best accuracy updated 0.${e + 2}000 -> 0.${e + 3}000`,
        ...(e === 2 ? ['warning: dev accuracy is below 0.5 after 2 epochs'] : []),
        `[Train] epoch ${e}/2: loss 0.5000, accuracy 0.6000`,
      ]),
      '[Test] accuracy 0.5000, loss 1.1000',
      'wrote runs/tiny8: train.log, metrics.json, checkpoints/best, checkpoints/last',
    ]);
  });

  it('fits 60 columns with at least the epoch, the bar, the steps and the ETA', () => {
    const bars = ptyRun(60).lines.filter((l) => BAR.test(l));
    expect(bars.length).toBeGreaterThan(4);
    for (const l of bars) {
      expect(l.length, l).toBeLessThanOrEqual(60);
      if (l.startsWith('epoch'))
        expect(l, l).toMatch(/^epoch [12]\/2 \[[=> ]{10,}\] +\d+\/12 steps  ETA \S+/);
      else expect(l, l).toMatch(/^(dev |test) \[[=> ]+\] \d\/8 batches.*ETA /);
    }
  });
});
