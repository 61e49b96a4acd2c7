/** The sigmoid activation: 1 / (1 + exp(-x)) (nn.Sigmoid). */
import { defineActivation } from './define.js';

/** 1 / (1 + exp(-x)) (nn.Sigmoid) */
export const sigmoid = defineActivation({ name: 'sigmoid', doc: '1 / (1 + exp(-x)) (nn.Sigmoid)', args: [] });
