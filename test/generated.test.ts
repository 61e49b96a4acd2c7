/**
 * generated/ holds the committed output of `netspec compile` for every canonical spec and both targets
 * (regenerate with `npm run generate`), with the folder marker compile writes; this fails on any drift, naming the
 * file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_TARGETS, generateTarget } from '../src/compiler/targets/index.js';
import { withMarker } from '../src/runtime/files/output-folder.js';
import { compileIr } from './support/compile.js';

const specs = fs
  .readdirSync('specs')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('generated/ matches netspec compile', () => {
  for (const spec of specs)
    for (const target of CODE_TARGETS)
      it(`${spec} --target ${target}`, () => {
        const dir = path.join('generated', path.basename(spec, '.yaml'), target);
        const files = withMarker(generateTarget(compileIr(path.join('specs', spec)), target), 'compile');
        const onDisk = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
        expect(onDisk, `${dir}: run npm run generate`).toEqual([...files.keys()].sort());
        for (const [name, content] of files)
          expect(
            fs.readFileSync(path.join(dir, name), 'utf8'),
            `${dir}/${name} drifted: run npm run generate`,
          ).toBe(content);
      });
});
