/** The relu6 activation: min(max(0, x), 6) (nn.ReLU6). */
import { defineActivation } from './define.js';

/** min(max(0, x), 6) (nn.ReLU6) */
export const relu6 = defineActivation({ name: 'relu6', doc: 'min(max(0, x), 6) (nn.ReLU6)', args: [] });
