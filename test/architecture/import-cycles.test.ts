/**
 * No module under src/ imports itself through others. Every relative import counts: static `import`, `import
 * type`, `export ... from` and dynamic `import('...')` (a lazy import still couples the two modules; only the
 * load order differs). Specifiers are read with TypeScript's own pre-processor (comments and strings are not
 * mistaken for imports); `.js` in a specifier means the `.ts` beside it, as NodeNext resolution has it.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

/** Every .ts file under `dir`, absolute. */
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The .ts file a relative specifier in `from` names, or undefined when it is not a source file. */
function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((file) => files.has(file));
}

/** The module graph: each file to the source files it imports (statically, by re-export or dynamically). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((ref) => ref.fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolveSpecifier(file, specifier, known))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components with a cycle (Tarjan): two or more modules, or one that imports itself. */
function cyclicComponents(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

/** One cycle through `component`, as `a.ts -> b.ts -> a.ts` relative to the repository (shortest from its first member). */
function describeCycle(component: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string {
  const members = new Set(component);
  const start = [...component].sort()[0] as string;
  // Breadth-first from start inside the component, back to start.
  const previous = new Map<string, string>();
  const queue = [start];
  search: while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next) || previous.has(next)) continue;
      previous.set(next, node);
      if (next === start) break search;
      queue.push(next);
    }
  }
  const cycle = [start];
  for (let node = previous.get(start) as string; node !== start; node = previous.get(node) as string)
    cycle.unshift(node);
  cycle.unshift(start);
  return cycle.map((file) => path.relative(process.cwd(), file)).join(' -> ');
}

describe('imports under src/', () => {
  const files = tsFiles(SRC);
  const graph = importGraph(files);

  it('reads a graph with edges (the walk found the sources and their imports)', () => {
    expect(files.length).toBeGreaterThan(50);
    const edges = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
    expect(edges).toBeGreaterThan(files.length);
  });

  it('has no cycle, static or dynamic', () => {
    const cycles = cyclicComponents(graph).map((component) => describeCycle(component, graph));
    expect(cycles).toEqual([]);
  });
});

describe('the cycle finder', () => {
  const graph = new Map<string, string[]>([
    ['/r/a.ts', ['/r/b.ts']],
    ['/r/b.ts', ['/r/c.ts']],
    ['/r/c.ts', ['/r/a.ts', '/r/d.ts']],
    ['/r/d.ts', []],
    ['/r/e.ts', ['/r/e.ts']],
  ]);

  it('finds each cycle once and names it', () => {
    const cycles = cyclicComponents(graph).map((component) =>
      describeCycle(component, graph).replaceAll(path.relative(process.cwd(), '/r') + path.sep, ''),
    );
    expect(cycles.sort()).toEqual(['a.ts -> b.ts -> c.ts -> a.ts', 'e.ts -> e.ts']);
  });

  it('finds none in a graph without one', () => {
    expect(
      cyclicComponents(
        new Map([
          ['/r/a.ts', ['/r/b.ts']],
          ['/r/b.ts', []],
        ]),
      ),
    ).toEqual([]);
  });
});
