/** The silu activation: x * sigmoid(x), also called swish (nn.SiLU). */
import { defineActivation } from './define.js';

/** x * sigmoid(x), also called swish (nn.SiLU) */
export const silu = defineActivation({
  name: 'silu',
  doc: 'x * sigmoid(x), also called swish (nn.SiLU)',
  args: [],
});
