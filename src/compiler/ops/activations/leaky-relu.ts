/** The leaky_relu activation: x for x >= 0, slope * x below (nn.LeakyReLU). */
import { defineActivation } from './define.js';

/** x for x >= 0, slope * x below (nn.LeakyReLU). */
export const leaky_relu = defineActivation({
  name: 'leaky_relu',
  doc: 'x for x >= 0, slope * x below (nn.LeakyReLU)',
  args: [{ name: 'slope', type: 'float', default: 0.01, doc: 'negative slope' }],
  alphaArg: 'slope',
});
