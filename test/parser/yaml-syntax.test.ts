/**
 * YAML syntax errors as a person needs them: one error, on the offending line, saying in words what is wrong and
 * what to write (src/parser/yaml/syntax.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineMap } from '../../src/diagnostics.js';
import { renderDiagnostics } from '../../src/cli/render.js';
import { parseYaml } from '../../src/parser/yaml/index.js';
import { findLayoutProblem } from '../../src/parser/yaml/syntax.js';

const FILE = 'spec.yaml';

/** What `netspec check` prints for `text`. */
function check(text: string): string {
  const { diagnostics } = parseYaml(text, FILE);
  return renderDiagnostics(diagnostics, new Map([[FILE, text]]));
}

const RESNET = fs.readFileSync('specs/resnet18.yaml', 'utf8');

/** resnet18.yaml with the line holding `marker` moved by `shift` spaces. */
function shifted(marker: string, shift: number): string {
  return RESNET.split('\n')
    .map((l) => (l.includes(marker) ? (shift > 0 ? ' '.repeat(shift) + l : l.slice(-shift)) : l))
    .join('\n');
}

describe('a mis-indented line is one error on that line', () => {
  it('a block body item one space less than its siblings', () => {
    expect(check(shifted('batchnorm: {name: bn1}', -1))).toBe(
      [
        'spec.yaml:12:6: error YAML_SYNTAX: this line is indented 5 spaces, its sibling list items 6 (line 11); YAML reads the structure from the indentation',
        '12 |      - batchnorm: {name: bn1}',
        '   |      ^^^^^^^^^^^^^^^^^^^^^^^^',
        '  hint: indent it 6 spaces, as line 11:',
        '          ' + '      - batchnorm: {name: bn1}',
        '        nothing else in this file is checked until the YAML reads',
        '',
      ].join('\n'),
    );
  });

  it('a block body item one space more, and modules items one space more or less', () => {
    const first = (text: string): string => check(text).split('\n')[0] ?? '';
    expect(first(shifted('batchnorm: {name: bn1}', 1))).toBe(
      'spec.yaml:12:8: error YAML_SYNTAX: this line is indented 7 spaces, its sibling list items 6 (line 11); YAML reads the structure from the indentation',
    );
    expect(first(shifted('- stage3:', 1))).toMatch(
      /^spec\.yaml:32:4: .* indented 3 spaces, its sibling list items 2 \(line 31\)/,
    );
    expect(first(shifted('- stage3:', -1))).toMatch(
      /^spec\.yaml:32:2: .* indented 1 space, its sibling list items 2 \(line 31\)/,
    );
    // A modules item indented as deep as the key inside the item above (yaml: "implicit map key" errors).
    const deeper =
      'netspec: 1\nname: n\ninput: [1, 8, 8]\nmodules:\n  - stem: [relu]\n    - head: [flatten]\n';
    expect(parseYaml(deeper, FILE).diagnostics).toHaveLength(1);
    expect(first(deeper)).toMatch(
      /^spec\.yaml:6:5: .* indented 4 spaces, its sibling list items 2 \(line 5\)/,
    );
  });

  it('a key at the wrong depth', () => {
    expect(check('netspec: 1\nname: n\n input: [1, 8, 8]\nmodules: []\n').split('\n')[0]).toBe(
      'spec.yaml:3:2: error YAML_SYNTAX: this line is indented 1 space, its sibling keys 0 (line 2); YAML reads the structure from the indentation',
    );
  });
});

describe('other syntax errors: the first one, in plain words', () => {
  const cases: [string, string, string][] = [
    [
      'tab indentation',
      'netspec: 1\nname: n\nmodules:\n\t- head: [flatten]\n',
      'spec.yaml:4:1: error YAML_SYNTAX: this line is indented with a tab; YAML indents with spaces only',
    ],
    [
      'a missing colon',
      'netspec: 1\nname n\ninput: [1, 8, 8]\n',
      "spec.yaml:2:1: error YAML_SYNTAX: expected 'key: value', found 'name n' without a ':'",
    ],
    [
      'a module name without its colon',
      'netspec: 1\nname: n\nmodules:\n  - stem\n      - conv: {out: 6, kernel: 3}\n',
      "spec.yaml:4:5: error YAML_SYNTAX: 'stem' has no ':', so the more-indented lines below cannot belong to it",
    ],
    [
      'an unclosed flow map',
      'netspec: 1\nname: n\nmodules:\n  - stem:\n      - conv: {out: 6\n      - relu\n',
      "spec.yaml:5:15: error YAML_SYNTAX: this '{' is never closed: a flow map ends with '}'",
    ],
    [
      'an unclosed flow list',
      'netspec: 1\nname: broken\ninput: [1, 28, 28\nmodules:\n  - head: [flatten]\n',
      "spec.yaml:3:8: error YAML_SYNTAX: this '[' is never closed: a flow list ends with ']'",
    ],
    [
      'an unclosed quote',
      "netspec: 1\nname: 'abc\ninput: [1, 8, 8]\n",
      'spec.yaml:2:7: error YAML_SYNTAX: this quoted string is never closed',
    ],
    [
      'a bracket too many',
      'netspec: 1\nname: n\ninput: [1, 8, 8]]\n',
      "spec.yaml:3:17: error YAML_SYNTAX: this ']' closes nothing: no '[' is open before it",
    ],
  ];
  for (const [name, text, expected] of cases)
    it(name, () => {
      const { diagnostics } = parseYaml(text, FILE);
      expect(diagnostics.filter((d) => d.code === 'YAML_SYNTAX')).toHaveLength(1);
      expect(check(text).split('\n')[0]).toBe(expected);
    });
});

describe('findLayoutProblem on valid YAML', () => {
  // It is consulted only after a syntax error, but it must never blame a line of a file that reads.
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) files.push(p);
    }
  };
  for (const dir of ['specs', 'maps', 'examples', 'test/fixtures']) if (fs.existsSync(dir)) walk(dir);
  it("covers the repository's YAML files", () => expect(files.length).toBeGreaterThan(20));
  it('finds nothing in any that parses', () => {
    const blamed = files.flatMap((f) => {
      const text = fs.readFileSync(f, 'utf8');
      if (parseYaml(text, f).diagnostics.some((d) => d.code === 'YAML_SYNTAX')) return [];
      const p = findLayoutProblem(new LineMap(f, text));
      return p ? [`${f}:${p.line}: ${p.message}`] : [];
    });
    expect(blamed).toEqual([]);
  });
});
