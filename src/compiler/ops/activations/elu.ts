/** The elu activation: x for x > 0, alpha * (exp(x) - 1) below (nn.ELU). */
import { defineActivation } from './define.js';

/** x for x > 0, alpha * (exp(x) - 1) below (nn.ELU). */
export const elu = defineActivation({
  name: 'elu',
  doc: 'x for x > 0, alpha * (exp(x) - 1) below (nn.ELU)',
  args: [{ name: 'alpha', type: 'float', default: 1, doc: 'scale of the negative part' }],
  alphaArg: 'alpha',
});
