/**
 * `netspec compare <spec> <spec>... [--seeds N] [--out DIR] [run options]`: trains every spec with seeds
 * 0..N-1 through `netspec run` (same options, same run folders), then writes compare.md, compare.html and the
 * overlaid curves into DIR. Each run lands in DIR/<variant>/seed-<k>; `--resume` continues the runs already there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { IrNetwork } from '../compiler/ir.js';
import { checkRunFolder, recoverRunFolder, type RunFolderMode } from '../runtime/checkpoint/index.js';
import { folderEntries, listNames, MARKER, markerText, readMarker } from '../runtime/files/marker.js';
import { READ_LIMITS, readRegularText } from '../runtime/files/read.js';
import {
  ensureFolder,
  holdsCurrentFolder,
  lstatOrUndefined,
  statOutputPath,
  writeFileAtomically,
} from '../runtime/files/write.js';
import type { RunMetrics } from '../runtime/train/metrics.js';
import { untrainableReasons } from '../runtime/train/trainability.js';
import type * as Reports from '../reports/compare.js';
import type { CompareVariant } from '../reports/compare.js';
import { compiledOrReport } from './common.js';
import { consoleOptions } from './console.js';
import { DEFAULT_RUN_SETTINGS, type RunSettings } from '../runtime/session/config.js';
import { fileSystemError, UserError, type CliIo } from './io.js';
import { parsePositiveInt, runOptions, settingsOf } from './options.js';
import { EXIT_INTERRUPTED, exitCodeOf, trainRun, type RunOptions, type RunTask } from './run.js';
import { FileError } from '../runtime/errors.js';

/** Options of `netspec run` that compare sets itself for each run instead of passing them through. */
const OWN_OPTIONS = new Set(['seed', 'out', 'resume', 'initFrom', 'map', 'json']);

interface CompareOptions extends Omit<RunOptions, 'seed' | 'out'> {
  readonly seeds: number;
  readonly out: string;
}

/** Registers the command; `setExit` records the exit code. */
export function registerCompare(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command('compare')
    .description('train several specs with several seeds each and compare them (compare.md, compare.html)')
    .argument('<spec...>', 'two or more spec files (.yaml or .net)')
    .option('--seeds <n>', 'runs per spec, with seeds 0..n-1', parsePositiveInt, 3)
    .option('--out <dir>', 'folder for the report and the runs', path.join('runs', 'compare'))
    .option('--resume', 'continue the runs already in --out (finished ones are only tested again)');
  for (const option of [...runOptions(), ...consoleOptions()])
    if (!OWN_OPTIONS.has(option.attributeName())) command.addOption(option);
  command.action(async (specs: string[], options: CompareOptions, self: Command) => {
    setExit(await compareCommand(specs, options, self, io));
  });
}

/** A folder name made of the variant label's safe characters. */
function folderName(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'variant';
}

interface Planned {
  readonly spec: string;
  readonly ir: IrNetwork;
  readonly label: string;
  readonly runs: { seed: number; dir: string }[];
  /** The spec's training settings with the command's options over them, and which were given. */
  readonly settings: RunSettings;
  readonly given: ReadonlySet<string>;
}

/** Reads a run's metrics.json, or explains why it cannot be used. */
function readMetrics(dir: string): RunMetrics {
  const file = path.join(dir, 'metrics.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularText(file, 'metrics file', READ_LIMITS.metadata));
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const m = raw as Partial<RunMetrics> | null;
  if (
    !m ||
    m.format !== 'netspec-metrics' ||
    m.version !== 1 ||
    !Array.isArray(m.steps) ||
    !Array.isArray(m.evaluations)
  )
    throw new UserError(`${file} is not a netspec metrics file (format netspec-metrics, version 1)`);
  return m as RunMetrics;
}

async function compareCommand(
  specs: readonly string[],
  options: CompareOptions,
  self: Command,
  io: CliIo,
): Promise<number> {
  if (specs.length < 2)
    throw new UserError('compare needs at least two specs (to study one spec over seeds, pass it twice)');
  if (options.resume && options.force)
    throw new UserError('--resume and --force contradict each other; pass one');

  // Compile every spec before anything is trained: a typo in the last spec should not cost the first runs.
  const irs: IrNetwork[] = [];
  const settings: { settings: RunSettings; given: Set<string> }[] = [];
  for (const spec of specs) {
    const compiled = compiledOrReport(spec, options, io);
    if (!compiled) continue;
    irs.push(compiled.ir);
    const s = settingsOf(self, compiled.training ?? {});
    for (const [field, origin] of Object.entries(compiled.trainingOrigins ?? {}))
      if (origin === '--set') s.given.add(field);
    settings.push(s);
  }
  if (irs.length !== specs.length) return 1;
  const untrainable = irs.flatMap((ir, i) => untrainableReasons(ir).map((r) => `${specs[i]}: ${r}`));
  if (untrainable.length) throw new UserError(untrainable.join('\n'));

  // The report module loads vega and resvg: only now, not whenever the CLI starts.
  const reports = await import('../reports/compare.js');
  const plan = planRuns(specs, irs, settings, options);
  const reportFiles = ['compare.md', 'compare.html', ...Object.values(reports.COMPARE_IMAGES)];
  checkCompareFolder(options.out, reportFiles, options);
  const modeOf = (dir: string): RunFolderMode =>
    options.resume && fs.existsSync(dir) ? 'resume' : options.force ? 'force' : 'new';
  try {
    for (const p of plan)
      for (const r of p.runs) {
        for (const action of recoverRunFolder(r.dir)) io.stdout(`note: ${r.dir}: ${action}\n`);
        checkRunFolder(r.dir, modeOf(r.dir));
      }
    ensureFolder(options.out);
    if (readMarker(options.out)?.kind !== 'compare')
      writeFileAtomically(path.join(options.out, MARKER), markerText('compare'));
  } catch (e) {
    throw fileSystemError(e, options.out) ?? e;
  }
  const trained = await trainAll(plan, options, modeOf, io);
  if (trained.stop !== undefined) return trained.stop;
  await writeReport(plan, options.out, reports, io);
  return trained.failed > 0 ? 1 : 0;
}

/** Every spec's runs, labelled apart (a second network of the same name is NAME-2) and placed in `--out`. */
function planRuns(
  specs: readonly string[],
  irs: readonly IrNetwork[],
  settings: readonly { settings: RunSettings; given: ReadonlySet<string> }[],
  options: CompareOptions,
): Planned[] {
  const used = new Map<string, number>();
  return irs.map((ir, i) => {
    const k = (used.get(ir.name) ?? 0) + 1;
    used.set(ir.name, k);
    const label = k === 1 ? ir.name : `${ir.name}-${k}`;
    const runs = Array.from({ length: options.seeds }, (_, seed) => ({
      seed,
      dir: path.join(options.out, folderName(label), `seed-${seed}`),
    }));
    const s = settings[i] ?? { settings: DEFAULT_RUN_SETTINGS, given: new Set<string>() };
    return { spec: specs[i] ?? '', ir, label, runs, settings: s.settings, given: s.given };
  });
}

/**
 * Trains the planned runs one after another through the session `netspec run` uses. A diverged run still has its
 * metrics and counts as failed; a stopped run, or one that failed before writing metrics, stops the comparison.
 */
async function trainAll(
  plan: readonly Planned[],
  options: CompareOptions,
  modeOf: (dir: string) => RunFolderMode,
  io: CliIo,
): Promise<{ failed: number; stop?: number }> {
  let failed = 0;
  const total = plan.length * options.seeds;
  let index = 0;
  for (const p of plan)
    for (const r of p.runs) {
      index += 1;
      io.stdout(`== compare ${index}/${total}: ${p.label} (${p.spec}), seed ${r.seed} -> ${r.dir}\n`);
      // The seed is stated for every run (so a resumed run checks it); the other options as given to compare.
      const task: RunTask = {
        spec: p.spec,
        ir: p.ir,
        settings: { ...p.settings, seed: r.seed },
        given: new Set([...p.given, 'seed']),
        backend: options.backend,
        console: options,
        out: r.dir,
        mode: modeOf(r.dir),
      };
      const code = exitCodeOf(await trainRun(task, io), io);
      if (code === EXIT_INTERRUPTED) {
        io.stderr(`compare stopped; continue with the same command and --resume\n`);
        return { failed, stop: EXIT_INTERRUPTED };
      }
      if (code !== 0) {
        if (!fs.existsSync(path.join(r.dir, 'metrics.json'))) return { failed, stop: code };
        failed += 1;
      }
    }
  return { failed };
}

/** Writes compare.md, compare.html and the overlaid curves from the runs' metrics, and prints the summary. */
async function writeReport(
  plan: readonly Planned[],
  out: string,
  reports: typeof Reports,
  io: CliIo,
): Promise<void> {
  const variants: CompareVariant[] = plan.map((p) => ({
    spec: p.spec,
    name: p.label,
    ...reports.variantCost(p.ir),
    runs: p.runs.map((r) => ({ seed: r.seed, dir: path.relative(out, r.dir), metrics: readMetrics(r.dir) })),
  }));
  const report = await reports.compareReport({ variants });
  const files: [string, string | Uint8Array][] = [
    ['compare.md', report.markdown],
    ['compare.html', report.html],
    ...report.images,
  ];
  try {
    for (const [name, content] of files) writeFileAtomically(path.join(out, name), content);
  } catch (e) {
    throw fileSystemError(e, out, 'the runs are in place; rerun with --resume to write the report') ?? e;
  }
  io.stdout(`\n${report.summary.join('\n')}\n\nwrote ${out}: ${files.map(([n]) => n).join(', ')}\n`);
}

/**
 * Checks, changing nothing, that the comparison folder `out` may be written: new or empty, or a comparison netspec
 * wrote (its marker, or from before markers: a netspec compare.md, report files and variant folders of seed-N
 * runs), holding nothing else; an earlier report there is replaced only with --resume or --force.
 */
function checkCompareFolder(
  out: string,
  reportFiles: readonly string[],
  options: { readonly resume?: boolean; readonly force?: boolean },
): void {
  const stat = statOutputPath(out, '--out', 'folder');
  if (!stat) return;
  if (!stat.isDirectory()) throw new UserError(`${out} exists and is not a folder`);
  const entries = folderEntries(out);
  if (entries.length === 0) return;
  const reports = new Set(reportFiles);
  const isRunsFolder = (name: string): boolean =>
    lstatOrUndefined(path.join(out, name))?.isDirectory() === true &&
    folderEntries(path.join(out, name)).every((n) => /^seed-\d+$/.test(n));
  const foreign = entries.filter((e) => e !== MARKER && !reports.has(e) && !isRunsFolder(e));
  const marked = readMarker(out)?.kind === 'compare';
  const unmarkedOwn =
    !entries.includes('compare.md') ||
    /^<!-- Generated by netspec compare\./.test(safeText(path.join(out, 'compare.md')));
  if (!marked && (!unmarkedOwn || foreign.length > 0))
    throw new UserError(
      `${out} is not a comparison folder netspec wrote (it holds ${listNames(entries)}); choose another --out`,
    );
  if (foreign.length > 0)
    throw new UserError(
      `${out} holds a comparison but also ${listNames(foreign)}, which netspec did not write; move those away first`,
    );
  if (holdsCurrentFolder(out) && options.force)
    throw new UserError(`refusing to replace ${out}: it is or contains the current folder`);
  if (entries.includes('compare.md') && !options.resume && !options.force)
    throw new UserError(
      `${out} holds an earlier comparison; pass --resume to continue it or --force to replace its runs and report`,
    );
}

/** The text of a small file, or '' when it cannot be read. */
function safeText(file: string): string {
  try {
    return readRegularText(file, 'report', READ_LIMITS.metadata);
  } catch {
    return '';
  }
}
