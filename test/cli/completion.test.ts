/**
 * `netspec completion bash|zsh`: the scripts are generated from the commander program, so what they complete is
 * what the CLI accepts. Bash is run with COMP_WORDS/COMP_CWORD set; zsh is parsed with `zsh -n` and completed in a
 * pseudo-terminal where zsh is installed (skipped, saying so, where it is not).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;
let tmp: string;
let bashFile: string;
let zshFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-completion-'));
  bashFile = path.join(tmp, 'netspec.bash');
  zshFile = path.join(tmp, '_netspec');
  const bash = await cli('completion', 'bash');
  const zsh = await cli('completion', 'zsh');
  expect([bash.code, bash.stderr, zsh.code, zsh.stderr]).toEqual([0, '', 0, '']);
  fs.writeFileSync(bashFile, bash.stdout);
  fs.writeFileSync(zshFile, zsh.stdout);
});

/** The candidates bash's completion offers for the words `words` (the last one is being completed). */
function complete(...words: string[]): string[] {
  const script =
    'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _netspec; printf "%s\\n" "${COMPREPLY[@]}"';
  const run = spawnSync('bash', ['-c', script, bashFile, ...words], { cwd: process.cwd(), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter(Boolean).sort();
}

describe('netspec completion bash', () => {
  it('completes commands and netspec options', () => {
    expect(complete('netspec', 'co')).toEqual(['compare', 'compile', 'completion']);
    expect(complete('netspec', '-')).toEqual(['--help', '--version', '-V', '-h']);
  });

  it("completes a command's options, and the choices of an option that has them", () => {
    expect(complete('netspec', 'compile', '--t')).toEqual(['--target']);
    expect(complete('netspec', 'compile', 'specs/lenet5.yaml', '--target', '')).toEqual(['pytorch', 'tfjs']);
    expect(complete('netspec', 'summary', '--format', 'k')).toEqual(['keras']);
    expect(complete('netspec', 'check', '--format', '')).toEqual(['net', 'yaml']);
    expect(complete('netspec', 'run', '--backend', 'w')).toEqual(['wasm', 'webgpu']);
    expect(complete('netspec', 'completion', '')).toEqual(['bash', 'zsh']);
    expect(complete('netspec', 'help', 'ex')).toEqual(['export', 'export-weights']);
    expect(complete('netspec', 'check', '--max-params', '')).toEqual([]);
  });

  it('offers spec files and folders for spec arguments, after options and their values too', () => {
    expect(complete('netspec', 'check', 'specs/lenet')).toEqual(['specs/lenet5.net', 'specs/lenet5.yaml']);
    expect(complete('netspec', 'compile', '--target', 'tfjs', 'specs/resnet18.')).toEqual([
      'specs/resnet18.net',
      'specs/resnet18.yaml',
    ]);
    expect(complete('netspec', 'summary', 'spe')).toEqual(['specs']);
    expect(complete('netspec', 'summary', 'READ')).toEqual([]); // README.md is not a spec
    // summary takes one spec: nothing more after it.
    expect(complete('netspec', 'summary', 'specs/lenet5.yaml', 'specs/')).toEqual([]);
  });

  it('is what `source <(netspec completion bash)` loads from the real binary', () => {
    const run = spawnSync(
      'bash',
      [
        '-c',
        'source <("$0" "$1" completion bash); COMP_WORDS=(netspec exp); COMP_CWORD=1; _netspec; echo "${COMPREPLY[@]}"',
        path.resolve('node_modules/.bin/tsx'),
        path.resolve('test/cli/netspec-main.ts'),
      ],
      { encoding: 'utf8' },
    );
    expect(run.stdout).toBe('export-weights export\n');
  });

  it('is documented in the command help', async () => {
    const help = await cli('completion', '--help');
    expect(help.stdout).toContain('source <(netspec completion bash)');
    expect(help.stdout).toContain('source <(netspec completion zsh)');
  });
});

describe('netspec completion zsh', () => {
  it.skipIf(!hasZsh)('is a script zsh -n accepts', () => {
    const run = spawnSync('zsh', ['-n', zshFile], { encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([0, '']);
  });

  it.skipIf(!hasZsh)('completes the choices of an option in an interactive zsh', () => {
    // zsh's own pseudo-terminal module: type the words and a TAB, and read what the completion lists.
    const driver = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'autoload -U compinit; compinit -u -D; source ${zshFile}; PROMPT="> "'
zpty -w z $'netspec compile --target \\t'
local all="" out
for i in {1..40}; do sleep 0.1; while zpty -r -t z out 2>/dev/null; do all+=$out; done; [[ $all == *pytorch*tfjs* ]] && break; done
print -r -- "$all"
zpty -d z`;
    const run = spawnSync('zsh', ['-f', '-c', driver], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout).toMatch(/pytorch\s+tfjs/);
  });

  it.runIf(!hasZsh)('is not checked here: zsh is not installed', () => {
    console.warn('zsh is not installed: netspec completion zsh was not checked (apt-get install zsh)');
  });
});
