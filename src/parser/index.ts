/** The parser entry point: picks the front end by file extension. */
import { error } from '../diagnostics.js';
import type { ParseResult } from './ast.js';
import { parseDsl } from './dsl/index.js';
import { parseYaml } from './yaml/index.js';

/** Parses a spec file's text: `.yaml`/`.yml` with the YAML front end, `.net` with the DSL; else UNKNOWN_FORMAT. */
export function parseSpec(text: string, file: string): ParseResult {
  const lower = file.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return parseYaml(text, file);
  if (lower.endsWith('.net')) return parseDsl(text, file);
  return {
    ast: undefined,
    diagnostics: [
      error(
        'UNKNOWN_FORMAT',
        `cannot tell the format of '${file}'`,
        undefined,
        'name spec files *.yaml, *.yml or *.net',
      ),
    ],
  };
}
