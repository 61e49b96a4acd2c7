import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BackendError,
  CheckpointError,
  DataError,
  FileError,
  isRuntimeError,
  LockedError,
  OptimizerStateError,
  ResumeError,
  RunFolderError,
  RUNTIME_ERROR_CODES,
  TrainInputError,
  writeFailure,
  type RuntimeError,
} from '../../src/runtime/errors.js';

describe('runtime errors', () => {
  it('each class carries its stable code, and together they use every code', () => {
    const errors: [RuntimeError, string][] = [
      [new FileError('m', 'f', 'ENOENT'), 'FILE'],
      [new DataError('m', 'f', 12), 'DATA_INVALID'],
      [new CheckpointError('m'), 'CHECKPOINT_INVALID'],
      [new RunFolderError('m'), 'RUN_FOLDER'],
      [new LockedError('m'), 'LOCKED'],
      [new OptimizerStateError('m'), 'OPTIMIZER_STATE'],
      [new TrainInputError('m'), 'TRAIN_INPUT'],
      [new BackendError('m'), 'BACKEND_UNAVAILABLE'],
      [new ResumeError('m'), 'RESUME_MISMATCH'],
      [writeFailure(Object.assign(new Error('x'), { code: 'EROFS' }), 'out/a')!, 'WRITE_FAILED'],
    ];
    for (const [e, code] of errors) {
      expect(e.code).toBe(code);
      expect(isRuntimeError(e)).toBe(true);
    }
    expect(new Set(errors.map(([, c]) => c))).toEqual(new Set(Object.keys(RUNTIME_ERROR_CODES)));
  });

  it('keeps what callers want as data apart from the code (a file error keeps its system error code)', () => {
    const e = new FileError('cannot read x: no such file', 'x', 'ENOENT', 'no such file');
    expect([e.code, e.systemCode, e.file, e.reason]).toEqual(['FILE', 'ENOENT', 'x', 'no such file']);
    expect([new DataError('m', 'f', 12).offset, new DataError('m').file]).toEqual([12, undefined]);
  });

  it('is not fooled by other errors that have a code', () => {
    expect(isRuntimeError(Object.assign(new Error('x'), { code: 'FILE' }))).toBe(false);
    expect(isRuntimeError({ code: 'DATA_INVALID', message: 'x' })).toBe(false);
    expect(isRuntimeError(new Error('x'))).toBe(false);
  });

  it('names the path, the reason and the consequence of a refused write; other errors are not write failures', () => {
    const full = writeFailure(Object.assign(new Error('x'), { code: 'ENOSPC' }), 'runs/a/metrics.json');
    expect(full?.message).toBe(
      'cannot write runs/a/metrics.json: no space left on device; nothing was written',
    );
    expect(full?.systemCode).toBe('ENOSPC');
    expect(writeFailure(Object.assign(new Error('x'), { code: 'EACCES' }), 'd', null)?.message).toBe(
      'cannot write d: permission denied',
    );
    expect(writeFailure(new Error('plain'), 'd')).toBeUndefined();
  });

  it('loads nothing: the module has no import, so commands that never run a model can use it', () => {
    const text = fs.readFileSync(new URL('../../src/runtime/errors.ts', import.meta.url), 'utf8');
    expect(text).not.toMatch(/^\s*import\b|\bimport\(/m);
  });
});
