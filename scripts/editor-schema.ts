/**
 * Writes the editor JSON Schema, schema/netspec.schema.json, from the layer definitions and the training settings
 * (src/parser/schema/editor-schema.ts), formatted as prettier formats the repository's JSON. Run by
 * `npm run generate` (scripts/generate.sh); the file is committed and shipped in the package, and
 * test/parser/editor-schema.test.ts fails when it drifts from `editorSchema()`.
 *
 *   npx tsx scripts/editor-schema.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { EDITOR_SCHEMA_PATH, editorSchema } from '../src/parser/schema/editor-schema.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The text of schema/netspec.schema.json: `editorSchema()`, two-space JSON as prettier leaves it. */
export async function editorSchemaText(): Promise<string> {
  const file = path.join(ROOT, EDITOR_SCHEMA_PATH);
  const options = await prettier.resolveConfig(file);
  return prettier.format(JSON.stringify(editorSchema(), null, 2), { ...options, filepath: file });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(ROOT, EDITOR_SCHEMA_PATH);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await editorSchemaText());
  console.log(`wrote ${EDITOR_SCHEMA_PATH}`);
}
