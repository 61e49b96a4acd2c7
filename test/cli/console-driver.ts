/**
 * Plays the synthetic run of console-events.ts on the process's own stdout through createTerminalOutput, as
 * `netspec run` would (the pty test runs it inside `script`). Each step waits 30 ms, so the bar is redrawn.
 */
import { createTerminalOutput } from '../../src/cli/console.js';
import { processIo } from '../../src/cli/io.js';
import { playRun } from './console-events.js';

const output = createTerminalOutput(processIo, {});
await playRun(output, () => new Promise((resolve) => setTimeout(resolve, 30)));
