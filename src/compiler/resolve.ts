/**
 * Variant resolution: follows `extends` chains (detecting cycles) and parses `--set name=value` overrides.
 * File access goes through a `SpecHost`, so this stays testable and free of I/O of its own.
 */
import path from 'node:path';
import type { BlockDecl, NetworkAst, ParamDecl, TrainingDecl } from '../parser/ast.js';
import { isSpecFile, parseSpec, SPEC_EXTENSIONS } from '../parser/index.js';
import { clip, didYouMean, error, hasErrors, LineMap, type Diagnostic, type Span } from '../diagnostics.js';
import type { Value } from './evaluate.js';
import { isTrainingAssignment } from './training.js';

/** Why a spec file could not be read, in words (`not a regular file (a FIFO)`, `larger than the 4 MiB limit`). */
export interface SpecReadFailure {
  readonly problem: string;
}

/**
 * How the compiler reads spec files: returns the text, undefined when the file does not exist, or why it could
 * not be read.
 */
export interface SpecHost {
  readFile(file: string): string | undefined | SpecReadFailure;
}

/** A spec with its `extends` chain merged into one AST, plus every source text read (for rendering). */
export interface ResolvedSpec {
  readonly ast: NetworkAst | undefined;
  readonly sources: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Most files in one `extends` chain (the spec itself included). Real chains are two or three files; the bound
 * keeps a generated chain from reading without end, and is refused as what it is (EXTENDS_TOO_DEEP), not as a
 * cycle.
 */
export const MAX_EXTENDS_DEPTH = 64;

/** Loads `file` and everything it extends; the result's AST is the merged network. */
export function resolveSpec(file: string, host: SpecHost): ResolvedSpec {
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const ast = load(file, host, sources, diagnostics, [], undefined);
  return { ast: hasErrors(diagnostics) ? undefined : ast, sources, diagnostics };
}

/**
 * The file an `extends` path names: relative to the folder of the extending spec, or as written when absolute
 * (`extends: /specs/base.yaml` is that file, not one under the spec's folder).
 */
export function extendsTarget(from: string, target: string): string {
  return path.normalize(path.isAbsolute(target) ? target : path.join(path.dirname(from), target));
}

function load(
  file: string,
  host: SpecHost,
  sources: Map<string, string>,
  diagnostics: Diagnostic[],
  chain: readonly string[],
  from: Span | undefined,
): NetworkAst | undefined {
  // What an extends target is checked for is checked before it is read, and reported at the `extends` line.
  if (from && !isSpecFile(file)) {
    diagnostics.push(
      error(
        'UNKNOWN_FORMAT',
        `cannot extend '${clip(file, 200)}': it is not a spec file`,
        from,
        `a spec extends another spec, named *${SPEC_EXTENSIONS.join(', *')}`,
      ),
    );
    return undefined;
  }
  const text = host.readFile(file);
  if (typeof text !== 'string') {
    // A missing file is NOT_FOUND; one that exists but cannot be read (a FIFO, a device, too large) is UNREADABLE.
    const why = text === undefined ? '' : `: ${text.problem}`;
    diagnostics.push(
      from
        ? error(
            text === undefined ? 'EXTENDS_NOT_FOUND' : 'EXTENDS_UNREADABLE',
            `cannot read '${clip(file, 200)}', which this spec extends${why}`,
            from,
          )
        : error(
            text === undefined ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE',
            `cannot read '${clip(file, 200)}'${why}`,
          ),
    );
    return undefined;
  }
  sources.set(file, text);
  const parsed = parseSpec(text, file);
  diagnostics.push(...parsed.diagnostics);
  const ast = parsed.ast;
  if (!ast || hasErrors(parsed.diagnostics) || !ast.extends)
    return hasErrors(parsed.diagnostics) ? undefined : ast;
  const parentFile = extendsTarget(file, ast.extends.path);
  const here = path.resolve(file);
  const cycleAt = [...chain, here].indexOf(path.resolve(parentFile));
  const shown = (files: readonly string[]): string =>
    files.map((f) => clip(path.relative(process.cwd(), f), 200)).join(' -> ');
  if (cycleAt >= 0) {
    const names = [...chain, here].slice(cycleAt);
    diagnostics.push(
      error(
        'EXTENDS_CYCLE',
        `extends cycle: ${shown([...names, path.resolve(parentFile)])}`,
        ast.extends.span,
      ),
    );
    return undefined;
  }
  if (chain.length + 1 >= MAX_EXTENDS_DEPTH) {
    diagnostics.push(
      error(
        'EXTENDS_TOO_DEEP',
        `extends chains deeper than ${MAX_EXTENDS_DEPTH} files are not supported ('${clip(path.relative(process.cwd(), parentFile), 200)}' would be file ${chain.length + 2})`,
        ast.extends.span,
        'a variant can extend the spec its parent extends, or restate what it changes',
      ),
    );
    return undefined;
  }
  const parent = load(parentFile, host, sources, diagnostics, [...chain, here], ast.extends.span);
  if (!parent) return undefined;
  return mergeVariant(parent, ast, diagnostics);
}

/**
 * A variant is its parent with: the child's name; the child's parameter values as new defaults (a parameter
 * the parent does not declare is an error); input, blocks (by name) and modules replaced where the child
 * gives them; and training settings replaced key by key.
 */
function mergeVariant(
  parent: NetworkAst,
  child: NetworkAst,
  diagnostics: Diagnostic[],
): NetworkAst | undefined {
  const params: ParamDecl[] = [...parent.params];
  let ok = true;
  for (const override of child.params) {
    const at = params.findIndex((p) => p.name === override.name);
    const original = params[at];
    if (at < 0 || !original) {
      diagnostics.push(
        error(
          'UNKNOWN_PARAMETER',
          `'${clip(override.name)}' is not a parameter of '${clip(parent.name)}'`,
          override.nameSpan,
          didYouMean(
            override.name,
            params.map((p) => p.name),
          ) ?? `its parameters are: ${clip(params.map((p) => p.name).join(', '), 200)}`,
        ),
      );
      ok = false;
      continue;
    }
    params[at] = {
      ...original,
      ...(override.default ? { default: override.default } : {}),
    };
  }
  const blocks: BlockDecl[] = parent.blocks.map((b) => child.blocks.find((c) => c.name === b.name) ?? b);
  for (const b of child.blocks) if (!parent.blocks.some((p) => p.name === b.name)) blocks.push(b);
  if (!ok) return undefined;
  const training = mergeTraining(parent.training, child.training);
  return {
    ...parent,
    file: child.file,
    format: child.format,
    name: child.name,
    nameSpan: child.nameSpan,
    params,
    ...(child.input ? { input: child.input } : {}),
    blocks,
    modules: child.modules.length > 0 ? child.modules : parent.modules,
    ...(training ? { training } : {}),
    span: child.span,
  };
}

/**
 * The parent's training entries that the child does not give, then the child's (each keeps its own file's span,
 * so its problems and its origin name that file). Groups are kept from both, for the structural checks.
 */
function mergeTraining(
  parent: TrainingDecl | undefined,
  child: TrainingDecl | undefined,
): TrainingDecl | undefined {
  if (!parent || !child) return child ?? parent;
  const given = new Set(child.entries.map((e) => e.key));
  return {
    kind: 'training',
    entries: [...parent.entries.filter((e) => !given.has(e.key)), ...child.entries],
    groups: [...parent.groups, ...child.groups],
    span: child.span,
  };
}

/**
 * Parses `--set` arguments (`name=value`) into typed values; positions point into a pseudo-file `--set`.
 * Assignments of training settings (`training.lr=0.01`) are left to `parseTrainingOverrides`.
 */
export function parseOverrides(
  assignments: readonly string[],
  declared: readonly ParamDecl[],
): { overrides: Map<string, { value: Value; span: Span }>; diagnostics: Diagnostic[] } {
  const overrides = new Map<string, { value: Value; span: Span }>();
  const diagnostics: Diagnostic[] = [];
  const text = assignments.join('\n');
  const map = new LineMap('--set', text);
  let offset = 0;
  for (const assignment of assignments) {
    if (isTrainingAssignment(assignment)) {
      offset += assignment.length + 1;
      continue;
    }
    const eq = assignment.indexOf('=');
    const name = eq >= 0 ? assignment.slice(0, eq).trim() : '';
    const raw = eq >= 0 ? assignment.slice(eq + 1).trim() : '';
    const span = map.span(offset, offset + assignment.length);
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || raw === '') {
      diagnostics.push(error('SET_SYNTAX', `--set expects name=value, found '${clip(assignment)}'`, span));
    } else if (!declared.some((p) => p.name === name)) {
      diagnostics.push(
        error(
          'SET_UNKNOWN_PARAMETER',
          `--set: the network has no parameter '${clip(name)}'`,
          map.span(offset, offset + eq),
          didYouMean(
            name,
            declared.map((p) => p.name),
          ) ??
            (declared.length
              ? `its parameters are: ${clip(declared.map((p) => p.name).join(', '), 200)}`
              : undefined),
        ),
      );
    } else {
      overrides.set(name, {
        value: parseScalar(raw),
        span: map.span(offset + eq + 1, offset + assignment.length),
      });
    }
    offset += assignment.length + 1;
  }
  return { overrides, diagnostics };
}

/** A command-line scalar: true/false, an integer, a number, else a string. */
function parseScalar(raw: string): Value {
  if (raw === 'true' || raw === 'false') return { t: 'bool', v: raw === 'true' };
  if (/^[+-]?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return { t: 'int', v: Number(raw) };
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) && Number.isFinite(Number(raw)))
    return { t: 'float', v: Number(raw) };
  return { t: 'string', v: raw };
}
