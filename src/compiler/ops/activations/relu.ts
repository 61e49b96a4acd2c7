/** The relu activation: max(0, x) (nn.ReLU). */
import { defineActivation } from './define.js';

/** max(0, x) (nn.ReLU) */
export const relu = defineActivation({ name: 'relu', doc: 'max(0, x) (nn.ReLU)', args: [] });
