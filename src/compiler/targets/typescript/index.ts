/** The TypeScript target: generated code that builds the tfjs target's model with '@tensorflow/tfjs' alone. */
export { generateTypeScript, MODEL_FILE, RUNTIME_FILE, RUNTIME_FILES } from './generate.js';
export { modelView, type ModelView } from './view-model.js';
