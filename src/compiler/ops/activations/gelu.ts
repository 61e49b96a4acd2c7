/** The gelu activation: x * Phi(x), the exact GELU (nn.GELU). */
import { defineActivation } from './define.js';

/** x * Phi(x), the exact GELU (nn.GELU) */
export const gelu = defineActivation({ name: 'gelu', doc: 'x * Phi(x), the exact GELU (nn.GELU)', args: [] });
