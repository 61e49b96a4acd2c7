/** The parser entry point: picks the front end by file extension. */
import { clip, error, limitDiagnostics, LineMap } from '../diagnostics.js';
import type { ParseResult } from './ast.js';
import { parseDsl } from './dsl/index.js';
import { parseYaml } from './yaml/index.js';

/** The file name endings of spec files: YAML (`.yaml`, `.yml`) and the DSL (`.net`), in any case. */
export const SPEC_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.net'];

/**
 * The longest spec text parsed: 4 MiB, in UTF-16 code units (JavaScript string length). A file of at most 4 MiB
 * of UTF-8 is never longer than that, so the CLI's file size limit and this one agree; real specs are a few KB.
 * Longer text is refused before either front end runs.
 */
export const MAX_SPEC_LENGTH = 4 * 1024 * 1024;

/** True when `file` is named like a spec (`*.yaml`, `*.yml`, `*.net`). */
export function isSpecFile(file: string): boolean {
  const lower = file.toLowerCase();
  return SPEC_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/**
 * Parses a spec file's text: `.yaml`/`.yml` with the YAML front end, `.net` with the DSL; else UNKNOWN_FORMAT.
 * Text longer than MAX_SPEC_LENGTH is TOO_LARGE, at the first character past the limit. At most MAX_DIAGNOSTICS
 * diagnostics are returned (then one TOO_MANY_ERRORS).
 */
export function parseSpec(text: string, file: string): ParseResult {
  if (!isSpecFile(file)) {
    return {
      ast: undefined,
      diagnostics: [
        error(
          'UNKNOWN_FORMAT',
          `cannot tell the format of '${clip(file, 200)}'`,
          undefined,
          'name spec files *.yaml, *.yml or *.net',
        ),
      ],
    };
  }
  if (text.length > MAX_SPEC_LENGTH) {
    // Only the text up to the limit is mapped to lines: the rest may be any size.
    const map = new LineMap(file, text.slice(0, MAX_SPEC_LENGTH + 1));
    return {
      ast: undefined,
      diagnostics: [
        error(
          'TOO_LARGE',
          `${clip(file, 200)}: a spec may be at most 4 MiB (${MAX_SPEC_LENGTH.toLocaleString('en-US')} characters); this one has ${text.length.toLocaleString('en-US')}`,
          map.span(MAX_SPEC_LENGTH, MAX_SPEC_LENGTH + 1),
        ),
      ],
    };
  }
  const result = file.toLowerCase().endsWith('.net') ? parseDsl(text, file) : parseYaml(text, file);
  return { ast: result.ast, diagnostics: limitDiagnostics(result.diagnostics) };
}
