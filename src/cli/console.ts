/**
 * The console of `netspec run` (and of each run `compare` trains): the run's lines, coloured by kind on a terminal,
 * filtered by `--quiet` / `--verbose`, above a progress bar that has one phase per epoch and one for each final
 * evaluation, and fits the terminal's width. Piped or redirected output gets the plain lines only.
 */
import { Option } from 'commander';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { EpochSummary, LineKind, ProgressPhase, SessionOutput } from '../runtime/session/run.js';
import { processIo, type CliIo } from './io.js';

/** picocolors' formatters, all of them the identity when colour is off. */
export type ConsoleColors = ReturnType<typeof pc.createColors>;

/** How much the console shows: `quiet` only warnings, errors and the result; `verbose` also the details. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** The console's settings as commander parses them (`--quiet`, `--verbose`, `--no-progress`). */
export interface ConsoleSettings {
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly progress?: boolean;
}

/** `--quiet` and `--verbose`, for `netspec run` and `compare` (`--no-progress` is in runOptions). */
export function consoleOptions(): Option[] {
  return [
    new Option(
      '--quiet',
      'show only warnings, errors and the result (test accuracy and loss, the run folder)',
    ).conflicts('verbose'),
    new Option('--verbose', "also show details, such as the backend probe's reasons"),
  ];
}

/**
 * The colour level for a stream, by Node's own rules (tty.WriteStream.getColorDepth): FORCE_COLOR decides when set
 * ('' '1' 'true': 1, '2': 2, '3': 3, anything else, '0' included: none), even on a pipe; else a non-empty NO_COLOR
 * (or NODE_DISABLE_COLORS), TERM=dumb or a stream that is not a terminal means none. The console uses the 16 basic
 * colours, so every level from 1 up looks the same.
 */
export function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean): 0 | 1 | 2 | 3 {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '' || force === '1' || force === 'true') return 1;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 0;
  }
  if (env['NO_COLOR'] || env['NODE_DISABLE_COLORS'] || env['TERM'] === 'dumb' || !isTTY) return 0;
  return 1;
}

/** The colours for what goes through `io`: the process's stdout or stderr by the rules of {@link colorLevel}. */
export function colorsFor(io: CliIo, stream: 'stdout' | 'stderr', env = process.env): ConsoleColors {
  const isTTY = io === processIo && process[stream].isTTY === true;
  return pc.createColors(colorLevel(env, isTTY) > 0);
}

/** `error: message`, red where stderr shows colour: for the errors the CLI prints (main.ts, a diverged run). */
export function errorLine(message: string, io: CliIo, env = process.env): string {
  return `${colorsFor(io, 'stderr', env).red(`error: ${message}`)}\n`;
}

/** Where the progress bar is drawn: a terminal's stream (process.stdout, or a test's stand-in). */
export interface BarStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** How a {@link TerminalOutput} shows a run. */
export interface TerminalSettings {
  readonly verbosity: Verbosity;
  readonly colors: ConsoleColors;
  /** The terminal to draw the progress bar on; none: no bar. */
  readonly bar?: BarStream;
  /** Milliseconds, for elapsed times and the ETA (tests pass a fake clock). */
  readonly now?: () => number;
}

/**
 * The console for one run through `io`: a progress bar only on the process's own stdout when it is a terminal
 * (not in CI, not with --no-progress or --quiet), colours by {@link colorLevel}.
 */
export function createTerminalOutput(
  io: CliIo,
  settings: ConsoleSettings,
  env: NodeJS.ProcessEnv = process.env,
): TerminalOutput {
  const verbosity: Verbosity = settings.quiet ? 'quiet' : settings.verbose ? 'verbose' : 'normal';
  const useBar =
    verbosity !== 'quiet' &&
    settings.progress !== false &&
    io === processIo &&
    process.stdout.isTTY === true &&
    !env['CI'];
  return new TerminalOutput(io, {
    verbosity,
    colors: colorsFor(io, 'stdout', env),
    ...(useBar ? { bar: process.stdout } : {}),
  });
}

/** What one line of the progress bar shows; {@link barLine} lays it out. */
export interface BarView {
  /** `epoch 3/10`, `dev` or `test`. */
  readonly label: string;
  readonly done: number;
  readonly total: number;
  readonly unit: 'steps' | 'batches';
  readonly elapsedSeconds: number;
  /** Unknown until a step has been timed. */
  readonly etaSeconds?: number;
  /** A training phase shows its throughput and loss (as `-` until known); an evaluation shows neither. */
  readonly training: boolean;
  readonly imagesPerSecond?: number;
  readonly loss?: number;
}

/** Fields a bar line drops to fit, least important first; the label, the bar, the count and the ETA stay. */
const DROP_ORDER = ['elapsed', 'rate', 'loss'] as const;
type Optional = (typeof DROP_ORDER)[number];
/** The bar's width between its brackets: at most BAR_MAX; fields are dropped before it gets below BAR_MIN. */
const BAR_MAX = 40;
const BAR_MIN = 10;
const BAR_SMALLEST = 3;

/** `m:ss`, or `h:mm:ss` from an hour up. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

/** `[=====>    ]` with `inner` characters between the brackets. */
function barText(done: number, total: number, inner: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(fraction * inner);
  if (filled >= inner) return `[${'='.repeat(inner)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(inner - filled - 1)}]`;
}

/**
 * One progress line of at most `columns - 1` characters (the last column is left free, so that no terminal wraps):
 * `epoch 3/10 [=====>    ] 45/79 steps  1,234 img/s  0:04 elapsed  ETA 0:05  loss 0.2345`. When it does not
 * fit, it drops the elapsed time, then the throughput, then the loss, and only then shortens the bar.
 */
export function barLine(view: BarView, columns: number): string {
  const budget = Math.max(1, columns - 1);
  const digits = String(view.total).length;
  const count = `${String(view.done).padStart(digits)}/${view.total} ${view.unit}`;
  const eta = `ETA ${view.etaSeconds === undefined ? '-:--' : clock(view.etaSeconds)}`;
  const optional: Record<Optional, string | undefined> = {
    elapsed: `${clock(view.elapsedSeconds)} elapsed`,
    rate: view.training
      ? `${(view.imagesPerSecond === undefined ? '-' : Math.round(view.imagesPerSecond).toLocaleString('en-US')).padStart(6)} img/s`
      : undefined,
    loss: view.training ? `loss ${view.loss === undefined ? '-' : view.loss.toFixed(4)}` : undefined,
  };
  const layout = (inner: number, dropped: number, withEta = true): string => {
    const kept = (name: Optional): string | undefined =>
      DROP_ORDER.indexOf(name) < dropped ? undefined : optional[name];
    const head = `${view.label} ${barText(view.done, view.total, inner)} ${count}`;
    const tail = [kept('rate'), kept('elapsed'), withEta ? eta : undefined, kept('loss')];
    return [head, ...tail.filter((f) => f !== undefined)].join('  ');
  };
  // layout(0, ...) is the line with an empty bar: what is left of the budget is the bar's.
  for (let dropped = 0; dropped <= DROP_ORDER.length; dropped++) {
    const spare = budget - layout(0, dropped).length;
    if (spare >= BAR_MIN) return layout(Math.min(BAR_MAX, spare), dropped);
  }
  const spare = budget - layout(0, DROP_ORDER.length).length;
  if (spare >= BAR_SMALLEST) return layout(spare, DROP_ORDER.length);
  // A terminal this narrow gets what fits, cut at its width rather than wrapped.
  return layout(BAR_SMALLEST, DROP_ORDER.length, false).slice(0, budget);
}

/** Weight of the newest step in the moving average of step times: the ETA follows a change within ~10 steps. */
const ETA_ALPHA = 0.1;

/** The bar is drawn at most every REDRAW_MS milliseconds (cli-progress's timer runs at 1000 / REDRAW_MS fps). */
const REDRAW_MS = 100;

/** The phase shown, with the timing the bar needs. */
interface PhaseState {
  readonly phase: ProgressPhase;
  readonly startedAt: number;
  done: number;
  lastAt: number;
  /** Exponential moving average of the seconds per step (or batch); undefined until one is timed. */
  stepSeconds: number | undefined;
  loss: number | undefined;
  /** Set by epochEnd: the epoch's own numbers replace the estimates. */
  finished?: { readonly imagesPerSecond: number; readonly seconds: number };
}

/**
 * What a run shows on the terminal: its lines (coloured by kind, filtered by verbosity, above the progress bar when
 * there is one) and notes on stderr. cli-progress draws the bar, at most 10 times a second; {@link barLine} lays
 * out what it draws.
 */
export class TerminalOutput implements SessionOutput {
  private multi: cliProgress.MultiBar | undefined;
  private state: PhaseState | undefined;
  private readonly now: () => number;
  /** When the bar was last drawn (this.now()), for the limit of {@link REDRAW_MS}. */
  private drawnAt = -Infinity;

  constructor(
    private readonly io: CliIo,
    private readonly settings: TerminalSettings,
  ) {
    this.now = settings.now ?? (() => performance.now());
  }

  line(text: string, kind: LineKind = 'plain'): void {
    if (this.settings.verbosity === 'quiet' && kind !== 'warning' && kind !== 'result') return;
    this.show(this.paint(text, kind));
  }

  detail(text: string): void {
    if (this.settings.verbosity === 'verbose') this.show(text);
  }

  note(text: string): void {
    if (this.settings.verbosity !== 'quiet') this.io.stderr(`note: ${text}\n`);
  }

  /** An error of the run, red on stderr where stderr shows colour; shown even with --quiet. */
  error(message: string): void {
    this.io.stderr(errorLine(message, this.io));
  }

  startProgress(phase: ProgressPhase): void {
    if (!this.settings.bar) return;
    const at = this.now();
    const done = phase.kind === 'train' ? phase.done : 0;
    this.state = { phase, startedAt: at, done, lastAt: at, stepSeconds: undefined, loss: undefined };
    this.multi ??= this.createBar(this.settings.bar);
    this.redraw();
  }

  progress(done: number, loss?: number): void {
    const s = this.state;
    if (!s) return;
    const at = this.now();
    const steps = done - s.done;
    if (steps > 0) {
      // Steps timed together (losses are read back in batches) weigh as that many steps.
      const perStep = (at - s.lastAt) / 1000 / steps;
      const weight = 1 - (1 - ETA_ALPHA) ** steps;
      s.stepSeconds =
        s.stepSeconds === undefined ? perStep : s.stepSeconds + weight * (perStep - s.stepSeconds);
      s.done = done;
      s.lastAt = at;
    }
    if (loss !== undefined) s.loss = loss;
  }

  epochEnd(summary: EpochSummary): void {
    const s = this.state;
    if (s?.phase.kind !== 'train' || s.phase.epoch !== summary.epoch) return;
    s.done = s.phase.steps;
    s.loss = summary.trainLoss;
    s.finished = { imagesPerSecond: summary.imagesPerSecond, seconds: summary.epochSeconds };
  }

  stopProgress(): void {
    // Lines logged since the last redraw are still in cli-progress's buffer: out with them before the bar goes.
    this.multi?.update();
    this.multi?.stop();
    this.multi = undefined;
    this.state = undefined;
  }

  /** The bar's current line for a terminal of `columns` (what cli-progress draws on each redraw). */
  barLineNow(columns: number): string {
    return this.state ? barLine(this.view(this.state), columns) : '';
  }

  private view(s: PhaseState): BarView {
    const at = this.now();
    const { phase } = s;
    const total = phase.kind === 'train' ? phase.steps : phase.batches;
    const remaining = Math.max(0, total - s.done);
    // Between updates the estimate counts down, instead of standing still until the next step is timed.
    const eta =
      remaining === 0
        ? 0
        : s.stepSeconds === undefined
          ? undefined
          : Math.max(0, remaining * s.stepSeconds - (at - s.lastAt) / 1000);
    const elapsedSeconds = s.finished?.seconds ?? (at - s.startedAt) / 1000;
    const timing = { elapsedSeconds, ...(eta !== undefined ? { etaSeconds: eta } : {}) };
    if (phase.kind === 'evaluate')
      return {
        label: phase.split.padEnd(4),
        done: s.done,
        total,
        unit: 'batches',
        training: false,
        ...timing,
      };
    const width = String(phase.epochs).length;
    const rate =
      s.finished?.imagesPerSecond ??
      (s.stepSeconds !== undefined && s.stepSeconds > 0 ? phase.batchSize / s.stepSeconds : undefined);
    return {
      label: `epoch ${String(phase.epoch + 1).padStart(width)}/${phase.epochs}`,
      done: s.done,
      total,
      unit: 'steps',
      training: true,
      ...timing,
      ...(rate !== undefined ? { imagesPerSecond: rate } : {}),
      ...(s.loss !== undefined ? { loss: s.loss } : {}),
    };
  }

  private createBar(stream: BarStream): cliProgress.MultiBar {
    const multi = new cliProgress.MultiBar({
      stream: stream as NodeJS.WritableStream,
      format: (_options, params) => {
        this.drawnAt = this.now();
        return this.barLineNow(params.maxWidth);
      },
      fps: 1000 / REDRAW_MS,
      // Redraw even an unchanged line: a line logged above it has just cleared it.
      forceRedraw: true,
      // cli-progress cuts a line at the terminal's width as a last resort; barLine already fits it.
      linewrap: true,
      hideCursor: true,
      clearOnComplete: true,
      gracefulExit: false,
    });
    multi.create(1, 0);
    return multi;
  }

  /**
   * Draws the bar (and the lines logged above it) now, unless it was drawn less than REDRAW_MS ago: then
   * cli-progress's own timer draws it within that time, so a burst of lines or phases costs no extra redraws.
   */
  private redraw(): void {
    if (this.multi && this.now() - this.drawnAt >= REDRAW_MS) this.multi.update();
  }

  private paint(text: string, kind: LineKind): string {
    const c = this.settings.colors;
    switch (kind) {
      case 'plain':
        return text;
      case 'best':
        return c.green(text);
      case 'warning':
        return c.yellow(text);
      case 'result':
        return c.bold(text);
    }
  }

  private show(text: string): void {
    if (this.multi) {
      // MultiBar.log writes the line where the bar was and draws the bar again below it.
      this.multi.log(`${text}\n`);
      this.redraw();
    } else this.io.stdout(`${text}\n`);
  }
}
