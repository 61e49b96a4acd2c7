/**
 * One document's analysis: its own parse (for symbols and positions), the spec resolved through `extends` (for
 * blocks declared in a parent) and its compilation (diagnostics, the IR, the call sites of every layer path).
 */
import path from 'node:path';
import { compileSpec, type CompileResult, type SpecHost } from '../compiler/index.js';
import { resolveSpec } from '../compiler/resolve.js';
import type { NetworkAst, ParseResult } from '../parser/ast.js';
import { isSpecFile, parseSpec } from '../parser/index.js';

/** Everything the editor features read about one open spec. */
export interface Analysis {
  /** The document's file, absolute (spans of this document carry this name). */
  readonly file: string;
  readonly text: string;
  readonly format: 'yaml' | 'dsl';
  /** This document alone; its AST may be a syntax error's best-effort recovery. */
  readonly parsed: ParseResult;
  /** The network with its `extends` chain merged (blocks of a parent keep their parent's spans); none on errors. */
  readonly resolved: NetworkAst | undefined;
  readonly compiled: CompileResult;
}

/** True when YAML `text` has a top-level `netspec:` key, which makes it a netspec spec (others are left alone). */
export function isNetspecYaml(text: string): boolean {
  return /^(?:\uFEFF)?netspec[ \t]*:/m.test(text) || /^["']netspec["'][ \t]*:/m.test(text);
}

/** True when the document at `file` is a spec the server analyzes: a `.net` file, or netspec YAML. */
export function isNetspecDocument(file: string, text: string): boolean {
  if (!isSpecFile(file)) return false;
  return file.toLowerCase().endsWith('.net') || isNetspecYaml(text);
}

/** A host that serves `open(file)` (an open document's unsaved text) first, then `disk`; names are resolved. */
export function overlayHost(open: (file: string) => string | undefined, disk: SpecHost): SpecHost {
  return { readFile: (file) => open(path.resolve(file)) ?? disk.readFile(file) };
}

/** Analyzes the document `file` (absolute) holding `text`; other files come from `host`. */
export function analyze(file: string, text: string, host: SpecHost): Analysis {
  const own: SpecHost = { readFile: (f) => (path.resolve(f) === file ? text : host.readFile(f)) };
  const parsed = parseSpec(text, file);
  const resolved = resolveSpec(file, own).ast;
  const compiled = compileSpec(file, own);
  const format = file.toLowerCase().endsWith('.net') ? 'dsl' : 'yaml';
  return { file, text, format, parsed, resolved, compiled };
}
