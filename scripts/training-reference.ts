// Rewrites the generated table of training settings in docs/language.md (between its markers) from the table in
// src/training-settings.ts; test/compiler/training-reference.test.ts fails when the two differ.
import fs from 'node:fs';
import { withTrainingReference } from '../src/compiler/training-reference.js';

const file = new URL('../docs/language.md', import.meta.url);
fs.writeFileSync(file, withTrainingReference(fs.readFileSync(file, 'utf8')));
