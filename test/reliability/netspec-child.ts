/** `netspec` from the sources, for tests that need a real process (signals): `node --import tsx netspec-child.ts ...`. */
import { runCli } from '../../src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
