/** The selu activation: scaled ELU (nn.SELU). */
import { defineActivation } from './define.js';

/** scaled ELU (nn.SELU) */
export const selu = defineActivation({ name: 'selu', doc: 'scaled ELU (nn.SELU)', args: [] });
