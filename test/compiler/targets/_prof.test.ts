import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { buildModel, getStateDict } from '../../../src/compiler/targets/tfjs/index.js';
import { compileIr } from '../../support/compile.js';
it('prof', async () => {
  await tf.setBackend('cpu');
  const ir = compileIr('specs/resnet18.yaml');
  let t = Date.now();
  const m = buildModel(ir, { seed: 0 });
  console.log('build seeded', Date.now() - t); t = Date.now();
  const m2 = buildModel(ir);
  console.log('build unseeded', Date.now() - t); t = Date.now();
  getStateDict(m, ir);
  console.log('state', Date.now() - t); t = Date.now();
  const r = tf.randomUniform([1000000], -1, 1, 'float32', 5); r.dataSync();
  console.log('1M seeded randomUniform', Date.now() - t); t = Date.now();
  m.dispose(); m2.dispose();
});
