/** The hardsigmoid activation: relu6(x + 3) / 6 (nn.Hardsigmoid). */
import { defineActivation } from './define.js';

/** relu6(x + 3) / 6 (nn.Hardsigmoid). */
export const hardsigmoid = defineActivation({
  name: 'hardsigmoid',
  doc: 'relu6(x + 3) / 6 (nn.Hardsigmoid)',
  args: [],
});
