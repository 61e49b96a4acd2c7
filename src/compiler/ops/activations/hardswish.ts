/** The hardswish activation: x * relu6(x + 3) / 6 (nn.Hardswish). */
import { defineActivation } from './define.js';

/** x * relu6(x + 3) / 6 (nn.Hardswish). */
export const hardswish = defineActivation({
  name: 'hardswish',
  doc: 'x * relu6(x + 3) / 6 (nn.Hardswish)',
  args: [],
});
