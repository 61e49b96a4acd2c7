/**
 * `netspec check <spec|folder|->...`: validate only; prints one line per valid spec, or with `--json` one JSON
 * document of every spec's diagnostics. A folder means the spec files in it; `-` reads one spec from stdin.
 */
import { Option, type Command } from 'commander';
import type { CompileResult } from '../compiler/index.js';
import { countParams } from '../compiler/ir.js';
import { hasErrors, LineMap, type Diagnostic } from '../diagnostics.js';
import { compileSpecWith, isFolder, specExtensions, specsInFolder, type SpecOptions } from './common.js';
import { withSpecOptions } from './options.js';
import { readStdinSpec, STDIN_NAME, stdinHost, UserError, type CliIo } from './io.js';
import { renderDiagnostics } from './render.js';

/** The formats a spec on stdin can be in. */
export const STDIN_FORMATS = ['yaml', 'net'] as const;
/** One of STDIN_FORMATS. */
export type StdinFormat = (typeof STDIN_FORMATS)[number];

interface CheckOptions extends SpecOptions {
  readonly json?: boolean;
  readonly format?: StdinFormat;
}

/** One diagnostic as `check --json` prints it; `endLine:endColumn` is the position just after the span. */
export interface DiagnosticJson {
  readonly severity: Diagnostic['severity'];
  readonly code: Diagnostic['code'];
  readonly message: string;
  readonly file: string;
  /** 1-based; null for a finding without a place in a source (a missing file). */
  readonly line: number | null;
  readonly column: number | null;
  readonly endLine?: number;
  readonly endColumn?: number;
  readonly hint?: string;
}

/** One spec's result in `check --json`. */
export interface SpecCheckJson {
  readonly file: string;
  readonly ok: boolean;
  readonly diagnostics: readonly DiagnosticJson[];
}

/**
 * The format of a spec text without a file name: the DSL when its first word after comments and blank space is
 * `network` (as every `.net` file opens), else YAML.
 */
export function sniffFormat(text: string): StdinFormat {
  const rest = text.replace(/^\uFEFF?(?:\s+|\/\/[^\n\r]*|\/\*[\s\S]*?\*\/|#[^\n\r]*)*/, '');
  return /^network(?![A-Za-z0-9_])/.test(rest) ? 'net' : 'yaml';
}

/** `d` as data, its end position computed from its source (as render.ts computes the start). */
export function diagnosticJson(
  d: Diagnostic,
  spec: string,
  sources: ReadonlyMap<string, string>,
): DiagnosticJson {
  const span = d.span;
  const text = span ? sources.get(span.file) : undefined;
  const end = span && text !== undefined ? new LineMap(span.file, text).span(span.endOffset) : undefined;
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file: span?.file ?? spec,
    line: span?.line ?? null,
    column: span?.col ?? null,
    ...(end ? { endLine: end.line, endColumn: end.col } : {}),
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}

/** A compilation of the text read from stdin under the name `file`, renamed to `<stdin>` everywhere it shows. */
function renamed(result: CompileResult, file: string): CompileResult {
  const rename = (s: string): string => s.replaceAll(file, STDIN_NAME);
  const diagnostics = result.diagnostics.map((d): Diagnostic => ({
    ...d,
    message: rename(d.message),
    ...(d.span ? { span: { ...d.span, file: d.span.file === file ? STDIN_NAME : d.span.file } } : {}),
  }));
  const sources = new Map(
    [...result.sources].map(([name, text]) => [name === file ? STDIN_NAME : name, text]),
  );
  return { ...result, diagnostics, sources };
}

/** The specs `check` checks, in order: a folder's spec files (sorted), stdin once, files as named. */
function expandSpecs(args: readonly string[]): string[] {
  if (args.filter((a) => a === '-').length > 1) throw new UserError('stdin (-) can be named only once');
  return args.flatMap((arg) => {
    if (arg === '-' || !isFolder(arg)) return [arg];
    const specs = specsInFolder(arg);
    if (specs.length === 0)
      throw new UserError(`${arg} is a folder and holds no spec files (*${specExtensions().join(', *')})`);
    return specs;
  });
}

/** Registers the command; `setExit` records the exit code. */
export function registerCheck(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('check')
      .description('validate specs')
      .argument(
        '<spec...>',
        'spec files (.yaml or .net); a folder means the specs in it (not its subfolders); - reads one from stdin',
      )
      .option('--json', 'print one JSON document on stdout: per spec, {file, ok, diagnostics}')
      .addOption(
        new Option(
          '--format <format>',
          "format of the spec on stdin (-); default: net when it opens with 'network', else yaml",
        ).choices(STDIN_FORMATS),
      ),
  ).action(async (args: string[], options: CheckOptions) => {
    if (options.format !== undefined && !args.includes('-'))
      throw new UserError("--format is for a spec read from stdin (-); a file's name says its format");
    const results: SpecCheckJson[] = [];
    for (const spec of expandSpecs(args)) {
      let result: CompileResult;
      if (spec === '-') {
        const text = await readStdinSpec(io);
        // Named in the current folder, so its `extends` resolves from there; the ending picks the parser.
        const file = `${STDIN_NAME}.${options.format ?? sniffFormat(text)}`;
        result = renamed(compileSpecWith(file, options, stdinHost(file, text)), file);
      } else result = compileSpecWith(spec, options);
      const name = spec === '-' ? STDIN_NAME : spec;
      const ok = !hasErrors(result.diagnostics) && result.ir !== undefined;
      if (!ok) setExit(1);
      if (options.json) {
        results.push({
          file: name,
          ok,
          diagnostics: result.diagnostics.map((d) => diagnosticJson(d, name, result.sources)),
        });
        continue;
      }
      if (result.diagnostics.length) io.stderr(renderDiagnostics(result.diagnostics, result.sources));
      const ir = result.ir;
      if (!ok || !ir) continue;
      const { trainable } = countParams(ir);
      io.stdout(
        `${name}: ok (${ir.name}: ${ir.nodes.length} layers, ${trainable.toLocaleString('en-US')} trainable parameters, ` +
          `input [${ir.inputShape.join(', ')}] -> output [${ir.outputShape.join(', ')}])\n`,
      );
    }
    if (options.json) io.stdout(JSON.stringify(results, null, 2) + '\n');
  });
}
