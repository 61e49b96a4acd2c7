/** The tanh activation: tanh(x) (nn.Tanh). */
import { defineActivation } from './define.js';

/** tanh(x) (nn.Tanh) */
export const tanh = defineActivation({ name: 'tanh', doc: 'tanh(x) (nn.Tanh)', args: [] });
