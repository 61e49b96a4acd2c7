/** Debian's PyTorch, the reference of the parity tests: where it is, and whether this machine has it. */
import { execFileSync } from 'node:child_process';

/** Debian's own Python, where python3-torch installs (not the pyenv Python first on PATH). */
export const PYTHON = '/usr/bin/python3';

/**
 * True when PYTHON imports `modules` (default: torch); otherwise warns that `what` is skipped and why, so a
 * skipped parity test is never silent.
 */
export function pythonHas(what: string, modules: readonly string[] = ['torch']): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(
      `${what} skipped: ${PYTHON} cannot import ${modules.join(' and ')} ` +
        `(apt-get install ${modules.map((m) => `python3-${m}`).join(' ')})`,
    );
    return false;
  }
}
