/** Code targets by name: each turns the IR into files (name → contents), deterministically. */
import { serializeIr, type IrNetwork } from '../ir.js';
import { generatePyTorch } from './pytorch/index.js';
import { generateTypeScript } from './typescript/index.js';

/** The code targets `netspec compile --target` offers. */
export const CODE_TARGETS = ['tfjs', 'pytorch'] as const;
/** One of CODE_TARGETS. */
export type CodeTarget = (typeof CODE_TARGETS)[number];

/** All files `netspec compile` writes for `target`: the generated code and the IR it came from (`ir.json`). */
export function generateTarget(ir: IrNetwork, target: CodeTarget): Map<string, string> {
  const files = target === 'pytorch' ? generatePyTorch(ir) : generateTypeScript(ir);
  return new Map([...files, ['ir.json', serializeIr(ir)]]);
}
