/**
 * A child process for the kill test in checkpoints.test.ts: rewrites one checkpoint folder over and over (4 MiB of
 * version-stamped bytes each time) and prints each version once it is in place, until it is killed.
 */
import { writeFolderAtomic } from '../../src/runtime/checkpoint/folder.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: checkpoint-writer.ts DIR');
for (let version = 1; ; version++) {
  writeFolderAtomic(
    dir,
    new Map([
      ['version.txt', new TextEncoder().encode(String(version))],
      ['weights.bin', new Uint8Array(4 << 20).fill(version & 255)],
    ]),
  );
  process.stdout.write(`${version}\n`);
}
