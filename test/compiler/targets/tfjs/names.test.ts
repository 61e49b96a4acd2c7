import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { irPathOfLayerName, tfjsLayerName } from '../../../../src/compiler/targets/tfjs/index.js';

/** tfjs's own rule for names of layers (they prefix weight names). */
const TFJS_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

describe('layer names', () => {
  it('are the IR paths themselves for ordinary paths', () => {
    for (const p of ['stem.0', 'stage3.0.conv1', 'stage2.0.relu_1', 'head.2', 'Block_A.10.x'])
      expect(tfjsLayerName(p)).toBe(p);
  });

  it('escape everything else reversibly into names tfjs accepts', () => {
    expect(tfjsLayerName("x'); process.exit(1);//")).toBe(
      'x-0027-0029-003b-0020process.exit-00281-0029-003b-002f-002f',
    );
    expect(tfjsLayerName('_a-b')).toBe('x--005fa-002db');
    expect(tfjsLayerName('x_a-b')).toBe('x_a-002db');
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'binary' }), (path) => {
        const name = tfjsLayerName(path);
        expect(name).toMatch(TFJS_NAME);
        expect(name).not.toContain('/');
        expect(irPathOfLayerName(name)).toBe(path);
      }),
    );
  });

  it('never decode helper layer names to a path', () => {
    for (const n of ['input-nhwc', 'stem.0-pad', 'head.1-nchw', 'x-00zz', 'x-005f', '-005fa'])
      expect(irPathOfLayerName(n)).toBeUndefined();
  });
});
