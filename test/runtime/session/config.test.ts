import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SETTINGS, runConfigOf, type RunSettings } from '../../../src/runtime/session/config.js';
import type { RunConfig } from '../../../src/runtime/train/config.js';

const settings = (over: Partial<RunSettings> = {}): RunSettings => ({ ...DEFAULT_RUN_SETTINGS, ...over });

/** A run started with lr 0.1, a step schedule (every 3 epochs, gamma 0.5), 7 epochs, idx data. */
const saved: RunConfig = runConfigOf(
  settings({ lr: 0.1, lrSchedule: 'step', lrStep: 3, lrGamma: 0.5, epochs: 7, data: 'idx:/d', train: 500 }),
  new Set(),
  undefined,
);

describe('runConfigOf: options to config, with the resume merge rules', () => {
  it('without a saved run, takes the settings as they are (the schedule from its kind)', () => {
    expect(saved.training).toMatchObject({
      lr: 0.1,
      epochs: 7,
      schedule: { kind: 'step', stepEpochs: 3, gamma: 0.5 },
    });
    expect(saved.data).toEqual({ source: 'idx:/d', train: 500, dev: 200, test: 200 });
    const constant = runConfigOf(settings({ lrStep: 9 }), new Set(), undefined);
    expect(constant.training.schedule).toEqual({ kind: 'constant' });
  });

  it('on resume, options not given again come from the saved run, whatever the defaults say', () => {
    expect(runConfigOf(settings(), new Set(), saved)).toEqual(saved);
  });

  it('on resume, an option given again wins, and only that one', () => {
    const config = runConfigOf(settings({ epochs: 9, lr: 0.3 }), new Set(['epochs']), saved);
    expect(config.training.epochs).toBe(9);
    expect(config.training.lr).toBe(0.1);
    expect(config.training.schedule).toEqual(saved.training.schedule);
  });

  it("a schedule setting given alone keeps the saved schedule's other settings", () => {
    const config = runConfigOf(settings({ lrGamma: 0.25 }), new Set(['lrGamma']), saved);
    expect(config.training.schedule).toEqual({ kind: 'step', stepEpochs: 3, gamma: 0.25 });
  });

  it("switching the schedule's kind on resume takes the new kind's settings from the options", () => {
    const config = runConfigOf(
      settings({ lrSchedule: 'cosine', lrMin: 0.001 }),
      new Set(['lrSchedule']),
      saved,
    );
    expect(config.training.schedule).toEqual({ kind: 'cosine', minLr: 0.001 });
  });
});
