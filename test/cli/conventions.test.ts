/**
 * What users of any CLI expect: `--version`, and after a typo the error, commander's "did you mean" and one line
 * naming the help to read (not the whole help).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('netspec --version', () => {
  it('prints netspec and the version of package.json, exit 0, for --version and -V', async () => {
    for (const flag of ['--version', '-V'])
      expect(await cli(flag)).toEqual({ code: 0, stdout: `netspec ${VERSION}\n`, stderr: '' });
  });
});

describe('typos end with the error and one line, exit 1', () => {
  it('an unknown option: the suggestion and the command help to read', async () => {
    expect(await cli('compile', 'specs/lenet5.yaml', '--targt', 'tfjs')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "error: unknown option '--targt'\n(Did you mean --target?)\nrun 'netspec compile --help' for the options\n",
    });
  });

  it('a bad value of an option with choices, and one its parser refuses', async () => {
    expect(await cli('compile', 'specs/lenet5.yaml', '--target', 'onnx')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "error: option '--target <target>' argument 'onnx' is invalid. Allowed choices are tfjs, pytorch.\n" +
        "run 'netspec compile --help' for the options\n",
    });
    const run = await cli('check', 'specs/lenet5.yaml', '--max-params', '0');
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toEqual([
      "error: option '--max-params <n>' argument '0' is invalid. expected a positive integer, found '0'",
      "run 'netspec check --help' for the options",
      '',
    ]);
  });

  it('a missing required option or argument', async () => {
    expect((await cli('evaluate', 'specs/lenet5.yaml')).stderr).toBe(
      "error: required option '--checkpoint <dir>' not specified\nrun 'netspec evaluate --help' for the options\n",
    );
    expect((await cli('summary')).stderr).toBe(
      "error: missing required argument 'spec'\nrun 'netspec summary --help' for the options\n",
    );
  });

  it('an unknown command, and an unknown option of netspec itself', async () => {
    expect(await cli('chek', 'specs/lenet5.yaml')).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: unknown command 'chek'\n(Did you mean check?)\nrun 'netspec --help' for the commands\n",
    });
    expect(await cli('--verbose')).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: unknown option '--verbose'\nrun 'netspec --help' for the commands\n",
    });
  });
});
