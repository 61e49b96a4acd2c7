/** The softplus activation: log(1 + exp(x)) (nn.Softplus). */
import { defineActivation } from './define.js';

/** log(1 + exp(x)) (nn.Softplus) */
export const softplus = defineActivation({
  name: 'softplus',
  doc: 'log(1 + exp(x)) (nn.Softplus)',
  args: [],
});
