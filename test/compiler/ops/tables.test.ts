/**
 * The tables targets and reports keep per op kind are typed `{ [K in OpKind]: ... }`, so `tsc` names a kind that a
 * table lacks. The `@ts-expect-error` lines below prove it at type-check time (`npm run typecheck` fails if any of
 * them stops being an error); the test bodies check that the same objects are complete or incomplete at run time.
 */
import { describe, expect, it } from 'vitest';
import { OP_KINDS, type NodeOfOp, type OpKind, type OpTable } from '../../../src/compiler/ops/index.js';

/** A table of every kind's name, built at run time. */
const complete = Object.fromEntries(OP_KINDS.map((k) => [k, k])) as { readonly [K in OpKind]: string };
const { hardsigmoid: _dropped, ...withoutHardsigmoid } = complete;

describe('tables keyed by op kind', () => {
  it('a table without a kind does not type-check', () => {
    // @ts-expect-error: 'hardsigmoid' is missing from a table of every op kind
    const table: { readonly [K in OpKind]: string } = withoutHardsigmoid;
    expect(Object.keys(table)).not.toContain('hardsigmoid');
    expect(Object.keys(complete)).toHaveLength(OP_KINDS.length);
  });

  it('a function table without a kind does not type-check, and each row gets its own node type', () => {
    const rows = Object.fromEntries(OP_KINDS.map((k) => [k, () => k])) as unknown as OpTable<string>;
    const { conv: _conv, ...withoutConv } = rows;
    // @ts-expect-error: 'conv' is missing from an OpTable
    const incomplete: OpTable<string> = withoutConv;
    expect(Object.keys(incomplete)).not.toContain('conv');
    // A row reads its own node's fields: conv's has outChannels, an activation's has fn.
    const conv = (node: NodeOfOp<'conv'>): number => node.outChannels;
    const relu = (node: NodeOfOp<'relu'>): string => node.fn;
    // @ts-expect-error: an activation node has no outChannels
    const wrong = (node: NodeOfOp<'relu'>): number => node.outChannels;
    expect([conv, relu, wrong].every((f) => typeof f === 'function')).toBe(true);
  });
});
