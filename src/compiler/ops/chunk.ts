/** `chunk`: one piece of torch.chunk along one axis (functional in PyTorch: `x.chunk(2, dim=1)[0]`). */
import type { ChunkNode } from '../ir.js';
import { chunkPiece, chunkShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** torch.chunk(x, chunks, dim)[index]: pieces of ceil(size/chunks), the last smaller (so maybe fewer pieces). */
export const chunk = defineLayer<'chunk', ChunkNode>({
  name: 'chunk',
  doc: 'piece `index` of torch.chunk(x, chunks, dim): pieces of ceil(size/chunks), the last smaller',
  args: [
    { name: 'chunks', type: 'int', min: 1, doc: 'how many pieces torch.chunk asks for' },
    { name: 'index', type: 'int', min: 0, doc: 'which piece, from 0' },
    {
      name: 'dim',
      type: 'int',
      default: 1,
      min: 1,
      doc: "PyTorch's axis, counting the batch as 0: 1 channels (or features), 2 height, 3 width",
    },
  ],
  functionalInBlocks: true,
  lower: (input, a) => {
    const [chunks, index, dim] = [a.number('chunks'), a.number('index'), a.number('dim')];
    return withShape(chunkShape(input, chunks, index, dim), (outputShape) => {
      const piece = chunkPiece(input[dim - 1] ?? 0, chunks, index) ?? { start: 0, length: 0 };
      return { kind: 'chunk', outputShape, params: [], chunks, index, dim, ...piece };
    });
  },
});
