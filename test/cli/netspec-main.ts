// `netspec` from source, for tests that spawn it: node_modules/.bin/tsx test/cli/netspec-main.ts <args>.
import { runCli } from '../../src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
