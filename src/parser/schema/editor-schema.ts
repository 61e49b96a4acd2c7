/**
 * The editor JSON Schema of a YAML spec (schema/netspec.schema.json, draft-07), written from the layer definitions
 * (`LAYERS`, `MERGES`) and the training settings table (`TRAINING_SETTINGS`), so that an editor (yaml-language-server,
 * VS Code's YAML extension) or plain ajv knows every layer kind, its arguments with their types, ranges and defaults,
 * and every training setting. `netspec.schema.json` beside this file is the parser's structural schema and stays as
 * it is (see README.md: the two schemas). Pure: no ajv, no I/O; scripts/editor-schema.ts writes the file.
 *
 * Block calls: a layer item's key is a layer kind, a merge (inside blocks), `$param`, or a block name. A schema cannot
 * read the spec's `blocks:`, so a block name is any key starting with an uppercase letter (`ResBlock`), the language's
 * convention, and block declarations are held to it too; lowercase keys must be layer kinds, so `conv2d` is flagged.
 */
import type { ArgSpec } from '../../compiler/ops/args.js';
import { LAYERS, MERGES } from '../../compiler/ops/index.js';
import { argDefaultWords, argTypeWords } from '../../compiler/ops/reference.js';
import {
  DEFAULT_TRAINING,
  SETTING_GROUPS,
  TRAINING_SETTINGS,
  type SettingDef,
  type SettingKind,
} from '../../training-settings.js';
import type { ParamType } from '../ast.js';

/** A JSON Schema object (draft-07), with the editor annotations `markdownDescription` and friends. */
export type JsonSchema = { [keyword: string]: unknown };

/** Where the generated schema is shipped, from the repository (and package) root. */
export const EDITOR_SCHEMA_PATH = 'schema/netspec.schema.json';

/**
 * A string YAML reads as an expression: `$out * 4`, `($a + 1) * 2`, `-$pad`; the YAML front end's
 * `isExpressionText` (build-ast.ts), which a test keeps in step with this pattern.
 */
export const EXPRESSION_PATTERN = '^-?[$(]';

/** The editor schema's rule for block names (declared and called): an uppercase first letter, as `ResBlock`. */
export const BLOCK_NAME_PATTERN = '^[A-Z][A-Za-z0-9_]*$';

/** A callee naming a layer or block through a string parameter: `$act`. */
export const PARAM_CALLEE_PATTERN = '^\\$[A-Za-z_][A-Za-z0-9_]*$';

const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const EXPRESSION_WORDS = 'an expression: a string starting with $, ( or - ($out * 2)';

/** The block parameter types (a type without a default: the call must give the value). */
const PARAM_TYPES: { readonly [T in ParamType]: string } = {
  int: 'an integer, no default',
  float: 'a number, no default',
  bool: 'a boolean, no default',
  string: 'a string, no default',
  list: 'a list, no default',
};

const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });

/** `>= 1`, `> 0, <= 1`: an argument's or setting's numeric range, in words. */
function rangeWords(d: {
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}): string {
  const parts: string[] = [];
  if (d.min !== undefined) parts.push(`${d.exclusiveMin ? '>' : '>='} ${d.min}`);
  if (d.max !== undefined) parts.push(`${d.exclusiveMax ? '<' : '<='} ${d.max}`);
  return parts.join(', ');
}

/** The range as JSON Schema keywords (draft-07's numeric exclusiveMinimum/exclusiveMaximum). */
function bounds(d: {
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}): JsonSchema {
  const out: JsonSchema = {};
  if (d.min !== undefined) out[d.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = d.min;
  if (d.max !== undefined) out[d.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = d.max;
  return out;
}

/** `required`, `default 1`, `default the kernel`. */
function defaultWords(a: ArgSpec): string {
  const given = argDefaultWords(a);
  return a.default === undefined ? given : `default ${given}`;
}

/** The JSON `default` of an argument as YAML writes it (a pair's default `1`, not `[1, 1]`), if it has one. */
function jsonDefault(a: ArgSpec): JsonSchema {
  if (a.default === undefined || (a.default === 'kernel' && a.type !== 'choice')) return {};
  return { default: a.default };
}

/** An integer (in `bounds`) or an expression: list items of pairs and int lists. */
function intItem(a: ArgSpec): JsonSchema {
  return {
    description: `an integer${rangeWords(a) ? ` ${rangeWords(a)}` : ''}, or ${EXPRESSION_WORDS}`,
    type: ['integer', 'string'],
    ...bounds(a),
    pattern: EXPRESSION_PATTERN,
    patternErrorMessage: `expected an integer or ${EXPRESSION_WORDS}`,
  };
}

/** The value schema of one argument: its type and range, or an expression string. */
function argValue(a: ArgSpec): JsonSchema {
  const expression = { pattern: EXPRESSION_PATTERN };
  switch (a.type) {
    case 'int':
      return {
        type: ['integer', 'string'],
        ...bounds(a),
        ...expression,
        patternErrorMessage: `expected an integer or ${EXPRESSION_WORDS}`,
      };
    case 'float':
      return {
        type: ['number', 'string'],
        ...bounds(a),
        ...expression,
        patternErrorMessage: `expected a number or ${EXPRESSION_WORDS}`,
      };
    case 'bool':
      return {
        type: ['boolean', 'string'],
        ...expression,
        patternErrorMessage: `expected true, false or ${EXPRESSION_WORDS}`,
      };
    case 'pair': {
      const pair = {
        type: ['integer', 'string', 'array'],
        ...bounds(a),
        ...expression,
        patternErrorMessage: `expected an integer, [h, w] or ${EXPRESSION_WORDS}`,
        items: intItem(a),
        minItems: 2,
        maxItems: 2,
      };
      if (!a.paddingWords) return pair;
      return {
        anyOf: [
          {
            description: "'same' keeps the size (stride 1, odd kernel); 'valid' is 0",
            type: 'string',
            enum: ['same', 'valid'],
          },
          { description: 'an integer, [h, w] or an expression', ...pair },
        ],
      };
    }
    case 'ints': {
      // A single integer is a list of one (`shape: 768`), where one item is enough.
      const single = (a.minItems ?? 0) <= 1;
      return {
        type: single ? ['integer', 'string', 'array'] : ['string', 'array'],
        ...(single ? bounds(a) : {}),
        ...expression,
        patternErrorMessage: `expected a list of integers or ${EXPRESSION_WORDS}`,
        items: intItem(a),
        ...(a.minItems !== undefined ? { minItems: a.minItems } : {}),
        ...(a.maxItems !== undefined ? { maxItems: a.maxItems } : {}),
      };
    }
    case 'choice':
      return {
        type: 'string',
        anyOf: [
          { description: 'one of the choices', enum: [...(a.choices ?? [])] },
          { description: EXPRESSION_WORDS, ...expression },
        ],
      };
  }
}

/** An argument's whole property schema: annotations, default and value. */
function argSchema(a: ArgSpec, positional: boolean): JsonSchema {
  const type = argTypeWords(a);
  const given = defaultWords(a);
  return {
    description: `${a.doc} (${type}; ${given})`,
    markdownDescription: `${a.doc}\n\n\`${type}\`, ${given}${positional ? ', the positional argument' : ''}; or an expression (\`$name\`, \`$out * 2\`).`,
    ...jsonDefault(a),
    ...argValue(a),
  };
}

/** The keys every layer and block call accepts besides its arguments: `name` (first), then the others. */
function callKeys(): {
  readonly name: JsonSchema;
  readonly rest: { readonly repeat: JsonSchema; readonly if: JsonSchema; readonly from: JsonSchema };
} {
  return {
    name: {
      description: "The item's name, the last part of its path (conv1 in stage3.0.conv1).",
      type: 'string',
      pattern: IDENTIFIER_PATTERN,
      patternErrorMessage: 'expected a name: letters, digits and _, not starting with a digit',
    },
    rest: {
      repeat: {
        description: "How many instances (0 leaves the item out); `index` is each one's number, from 0.",
        type: ['integer', 'string'],
        minimum: 0,
        pattern: EXPRESSION_PATTERN,
        patternErrorMessage: `expected an integer or ${EXPRESSION_WORDS}`,
      },
      if: {
        description: 'Condition: the item is left out when it is false (it then takes no index).',
        type: ['boolean', 'string'],
        pattern: EXPRESSION_PATTERN,
        patternErrorMessage: `expected true, false or ${EXPRESSION_WORDS}`,
      },
      from: {
        description:
          "Inside a block: read an earlier layer or block instance of the same block instance by its name (down, branch2.0), or 'input', instead of the previous item.",
        type: 'string',
        minLength: 1,
      },
    },
  };
}

/** `conv`'s value: nothing, its positional argument, or a map of named arguments. */
function layerCall(d: {
  readonly name: string;
  readonly doc: string;
  readonly args: readonly ArgSpec[];
}): JsonSchema {
  const required = d.args.filter((a) => a.default === undefined).map((a) => a.name);
  const [first] = d.args;
  // `conv: 64` binds `out` only; with another argument required the call is never complete.
  const positional = first !== undefined && required.every((r) => r === first.name);
  const keys = callKeys();
  const alternatives: JsonSchema[] = [];
  if (required.length === 0)
    alternatives.push({ description: 'no arguments: each takes its default', type: 'null' });
  if (positional && first)
    alternatives.push({
      ...argSchema(first, true),
      description: `${first.name}, positionally: ${first.doc}`,
    });
  alternatives.push({
    description: `named arguments of ${d.name}`,
    type: 'object',
    properties: {
      name: keys.name,
      ...Object.fromEntries(d.args.map((a, i) => [a.name, argSchema(a, positional && i === 0)])),
      ...keys.rest,
    },
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  });
  const list = d.args.map(
    (a, i) =>
      `- \`${a.name}\`${positional && i === 0 ? ' (positional)' : ''}: ${argTypeWords(a)}, ${defaultWords(a)}: ${a.doc}`,
  );
  const forms = [
    required.length === 0 ? `\`- ${d.name}\`` : undefined,
    positional && first ? `\`${d.name}: <${first.name}>\`` : undefined,
    `\`${d.name}: {${(required.length ? required : d.args.slice(0, 1).map((a) => a.name)).map((n) => `${n}: ...`).join(', ') || 'name: ...'}}\``,
  ].filter((f) => f !== undefined);
  return {
    description: `${d.name}: ${d.doc}. ${d.args.length ? `Arguments: ${d.args.map((a) => (a.default === undefined ? `${a.name} (required)` : a.name)).join(', ')}.` : 'No arguments.'}`,
    markdownDescription: [
      `**${d.name}**: ${d.doc}`,
      d.args.length ? list.join('\n') : 'No arguments.',
      `Written ${forms.join(' or ')}; \`name\`, \`repeat\`, \`if\` and \`from\` are accepted too.`,
    ].join('\n\n'),
    anyOf: alternatives,
  };
}

/** A merge's value: its own keys (`name`, `if`, arguments) and branches, each a list of layers. */
function mergeCall(d: {
  readonly name: string;
  readonly doc: string;
  readonly args: readonly ArgSpec[];
}): JsonSchema {
  const keys = callKeys();
  return {
    description: `${d.name}: ${d.doc}. A map of branches (name: [layers], [] for the input itself), merged in written order${d.args.length ? `; arguments: ${d.args.map((a) => a.name).join(', ')}` : ''}.`,
    markdownDescription: [
      `**${d.name}** (a merge, inside blocks): ${d.doc}`,
      `Every other key is a branch: a list of layers reading the merge's input (\`input: []\` is the input itself), merged in written order: \`${d.name}: {a: [conv: {out: 64, kernel: 1}], b: []}\`.`,
      ...(d.args.length
        ? [d.args.map((a) => `- \`${a.name}\`: ${argTypeWords(a)}, ${defaultWords(a)}: ${a.doc}`).join('\n')]
        : []),
    ].join('\n\n'),
    type: 'object',
    properties: {
      name: {
        ...keys.name,
        description: "The merge node's name (its path's last part); its kind when not given.",
      },
      if: {
        ...keys.rest.if,
        description:
          'Condition: when false only the first branch is kept (the merge and the others are left out).',
      },
      ...Object.fromEntries(d.args.map((a) => [a.name, argSchema(a, false)])),
    },
    propertyNames: {
      pattern: IDENTIFIER_PATTERN,
      patternErrorMessage: 'expected a branch name: letters, digits and _',
    },
    additionalProperties: ref('branch'),
    minProperties: 1,
  };
}

/** A call whose arguments a schema cannot know: a block instance, or `$param`'s layer or block. */
function openCall(description: string, markdownDescription: string): JsonSchema {
  const keys = callKeys();
  return {
    description,
    markdownDescription,
    anyOf: [
      { description: 'no arguments', type: 'null' },
      { description: 'the first parameter, positionally', ...ref('value') },
      {
        description: 'named arguments',
        type: 'object',
        properties: { name: keys.name, ...keys.rest },
        propertyNames: { pattern: IDENTIFIER_PATTERN, patternErrorMessage: 'expected a parameter name' },
        additionalProperties: ref('namedArgValue'),
      },
    ],
  };
}

/** A layer item as a map `kind: args`: the kinds, block names and `$param`; merges only where `merges`. */
function callMap(merges: boolean): JsonSchema {
  return {
    description: merges
      ? 'A single-key map: a layer kind, a merge, a block (an uppercase name) or $param, and its arguments.'
      : 'A single-key map: a layer kind, a block (an uppercase name) or $param, and its arguments (merges only inside blocks).',
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    properties: {
      ...Object.fromEntries(Object.keys(LAYERS).map((k) => [k, ref(`layer.${k}`)])),
      ...(merges ? Object.fromEntries(Object.keys(MERGES).map((k) => [k, ref(`merge.${k}`)])) : {}),
    },
    patternProperties: { [BLOCK_NAME_PATTERN]: ref('blockCall'), [PARAM_CALLEE_PATTERN]: ref('paramCall') },
    additionalProperties: false,
  };
}

/** Layer kinds that need no argument, so `- relu` alone is a call: their names and doc lines. */
function bareKinds(): { readonly names: string[]; readonly docs: string[] } {
  const kinds = Object.values(LAYERS).filter((d) => d.args.every((a: ArgSpec) => a.default !== undefined));
  return { names: kinds.map((d) => d.name), docs: kinds.map((d) => d.doc) };
}

/** The JSON schema of one training setting. */
function settingSchema(def: SettingDef): JsonSchema {
  const fallback = DEFAULT_TRAINING[def.field];
  const kind: { readonly [K in SettingKind]: JsonSchema } = {
    int: { type: 'integer', ...bounds(def) },
    number: { type: 'number', ...bounds(def) },
    bool: { type: 'boolean' },
    choice: { type: 'string', enum: [...(def.choices ?? [])] },
    string: { type: 'string', minLength: 1 },
    cadence: {
      anyOf: [
        { description: 'every n steps', type: 'integer', ...bounds(def) },
        { description: 'at each epoch end', type: 'string', enum: ['epoch'] },
      ],
    },
  };
  const form = {
    int: `integer${rangeWords(def) ? ` ${rangeWords(def)}` : ''}`,
    number: `number${rangeWords(def) ? ` ${rangeWords(def)}` : ''}`,
    bool: 'true or false',
    choice: `one of ${(def.choices ?? []).join(', ')}`,
    string: 'a string',
    cadence: `integer${rangeWords(def) ? ` ${rangeWords(def)}` : ''} or epoch`,
  }[def.kind];
  const option = def.option ? `; \`netspec run ${def.option} ${def.valueName ?? ''}\``.trimEnd() : '';
  return {
    description: `${def.description} (${form}; default ${String(fallback)})`,
    markdownDescription: `${def.description}\n\n${form}, default \`${String(fallback)}\`${option}; also \`--set training.${def.key}=...\`.`,
    default: fallback,
    ...kind[def.kind],
  };
}

/** `training:`: every setting of the table in its order, a group where its first key is. */
function trainingSchema(): JsonSchema {
  const properties: { [key: string]: JsonSchema } = {};
  for (const def of TRAINING_SETTINGS) {
    const dot = def.key.indexOf('.');
    if (dot < 0) {
      properties[def.key] = settingSchema(def);
      continue;
    }
    const group = def.key.slice(0, dot);
    const member = def.key.slice(dot + 1);
    const members = TRAINING_SETTINGS.filter((d) => d.key.startsWith(`${group}.`)).map((d) =>
      d.key.slice(dot + 1),
    );
    const schema = (properties[group] ??= {
      description: `${group}: a group of settings (${members.join(', ')}), written as a map.`,
      markdownDescription: `**${group}**: a group of settings, a map of ${members.map((m) => `\`${m}\``).join(', ')}: \`${group}: {${members[0] ?? ''}: ...}\`.`,
      type: 'object',
      properties: {},
      additionalProperties: false,
    });
    (schema.properties as { [key: string]: JsonSchema })[member] = settingSchema(def);
  }
  const missing = SETTING_GROUPS.filter((g) => properties[g] === undefined);
  if (missing.length) throw new Error(`internal: training groups without settings: ${missing.join(', ')}`);
  return {
    description:
      'Training settings (docs/language.md, Training settings): key: value, or a group (early_stopping, checkpoint, augment): a map of its keys. Literal values, no expressions. Not part of the network: the IR is the same without them.',
    type: 'object',
    properties,
    additionalProperties: false,
  };
}

/** Every definition the schema refers to, the layer kinds and merges in their tables' order. */
function definitions(): { [name: string]: JsonSchema } {
  const bare = bareKinds();
  const layerList = (description: string, item: string): JsonSchema => ({
    description,
    type: 'array',
    items: ref(item),
  });
  return {
    identifier: {
      description: 'A name: letters, digits and _, not starting with a digit.',
      type: 'string',
      pattern: IDENTIFIER_PATTERN,
      patternErrorMessage: 'expected a name: letters, digits and _, not starting with a digit',
    },
    value: {
      description: `A value: a number, a boolean, a string (${EXPRESSION_WORDS}) or a list of values.`,
      type: ['number', 'boolean', 'string', 'array'],
      items: ref('value'),
    },
    namedArgValue: {
      // The YAML front end reads a list of maps and plain names (`[relu]`, and `[]`) under a call as a branch.
      description:
        'A named argument of a block call: a number, a boolean, a string or a list; a list holds a value that is no plain name ([]: a branch, which only merges have).',
      type: ['number', 'boolean', 'string', 'array'],
      items: ref('value'),
      minItems: 1,
      contains: {
        description: 'a number, a boolean, a list or an expression',
        anyOf: [{ type: ['number', 'boolean', 'array'] }, { type: 'string', pattern: EXPRESSION_PATTERN }],
      },
    },
    blockParamValue: {
      description:
        'A type without a default (int, float, bool, string, list: the call must give it), or a default value.',
      anyOf: [
        {
          description: 'a type, no default',
          type: 'string',
          enum: Object.keys(PARAM_TYPES),
          enumDescriptions: Object.values(PARAM_TYPES),
        },
        ref('value'),
      ],
    },
    block: {
      description:
        'A block: body layers, an optional shortcut, how the two merge, and layers after the merge.',
      type: 'object',
      properties: {
        params: {
          description:
            'Block parameters: name: a type (int, float, bool, string, list; no default) or a default value.',
          type: 'object',
          propertyNames: ref('identifier'),
          additionalProperties: ref('blockParamValue'),
        },
        body: layerList(
          'The main path of the block: a list of layers, block instances and merges.',
          'blockItem',
        ),
        shortcut: {
          description:
            'The second path: the identity, or the given layers when the body changes the shape (or always).',
          type: 'object',
          properties: {
            when: {
              description:
                'shape_changes (default): the layers only when the body changes the shape, the identity otherwise; always: the layers always.',
              type: 'string',
              enum: ['shape_changes', 'always'],
              default: 'shape_changes',
            },
            layers: layerList('Layers applied to the block input.', 'blockItem'),
          },
          required: ['layers'],
          additionalProperties: false,
        },
        merge: {
          description: 'How body and shortcut are combined: add (the element-wise sum).',
          type: 'string',
          enum: ['add'],
        },
        residual: {
          description:
            'Condition for the merge: when false, the merge and the shortcut are dropped. Needs merge.',
          type: ['boolean', 'string'],
          pattern: EXPRESSION_PATTERN,
          patternErrorMessage: `expected true, false or ${EXPRESSION_WORDS}`,
        },
        after: layerList('Layers applied after the merge.', 'blockItem'),
      },
      required: ['body'],
      dependencies: { residual: ['merge'] },
      additionalProperties: false,
    },
    module: {
      description: 'A module: a single-key map `name: [layers]`; its name starts every layer path.',
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      propertyNames: ref('identifier'),
      additionalProperties: layerList(
        'The layers and block instances of the module, in order (merges only inside blocks).',
        'moduleItem',
      ),
    },
    moduleItem: {
      description:
        'A layer or block instance: a bare name (`relu`, `ResBlock`, `$act`), or a single-key map `kind: args`.',
      anyOf: [ref('bareCall'), ref('moduleCall')],
    },
    blockItem: {
      description:
        'A layer, block instance or merge: a bare name (`relu`, `ResBlock`, `$act`), or a single-key map `kind: args`.',
      anyOf: [ref('bareCall'), ref('blockCallMap')],
    },
    branch: layerList(
      "A branch of a merge: a list of layers reading the merge's input ([] is the input itself).",
      'blockItem',
    ),
    bareCall: {
      description:
        'A call without arguments: a layer kind that needs none, a block (an uppercase name) or $param.',
      type: 'string',
      anyOf: [
        {
          description: 'a layer kind whose arguments all have defaults',
          enum: bare.names,
          enumDescriptions: bare.docs,
        },
        { description: 'a block, by its name (uppercase first letter)', pattern: BLOCK_NAME_PATTERN },
        { description: 'the layer or block a string parameter names', pattern: PARAM_CALLEE_PATTERN },
      ],
    },
    moduleCall: callMap(false),
    blockCallMap: callMap(true),
    blockCall: openCall(
      'A block instance: its parameters positionally (the first) or by name, with name, repeat, if and from.',
      'A **block** instance (a name starting with an uppercase letter, declared under `blocks:`): nothing, the first parameter (`ResBlock: 64`), or parameters by name (`ResBlock: {out: 64, repeat: 2}`). That the block is declared and its parameters are right is checked by `netspec check`.',
    ),
    paramCall: openCall(
      'The layer or block a string parameter names ($act, with params {act: relu}), and its arguments.',
      'The layer or block named by a **string parameter** (`$act` with `act: relu`), with its arguments; checked by `netspec check` once the parameter is known.',
    ),
    ...Object.fromEntries(Object.values(LAYERS).map((d) => [`layer.${d.name}`, layerCall(d)])),
    ...Object.fromEntries(Object.values(MERGES).map((d) => [`merge.${d.name}`, mergeCall(d)])),
  };
}

/**
 * The editor JSON Schema (draft-07) of a YAML spec: the parser's structure, and every layer kind and merge with its
 * arguments (types, ranges, defaults, docs), every training setting, and descriptions for hovers. Identical
 * tables give an identical object, its keys in the tables' order.
 */
export function editorSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://netspec.dev/schema/netspec.schema.json',
    $comment:
      'Generated from the layer definitions (src/compiler/ops) and the training settings (src/training-settings.ts) by scripts/editor-schema.ts (npm run generate); do not edit.',
    title: 'netspec network spec (YAML form, version 1), for editors',
    description:
      'A netspec YAML spec: its layers, arguments and training settings. Strings starting with $, ( or - are expressions ($out, $out * 4). What only `netspec check` can tell (blocks declared, parameters known, shapes, the values of expressions) is left to it.',
    type: 'object',
    properties: {
      netspec: {
        description: 'Version of the spec format; must be 1.',
        type: 'integer',
        const: 1,
      },
      name: {
        description:
          'Name of the network (reports, generated code, run folders): a letter first, then letters, digits, _, - and single dots; at most 100.',
        type: 'string',
        minLength: 1,
        maxLength: 100,
        pattern: '^(?!.*\\.\\.)[A-Za-z][A-Za-z0-9_.-]*$',
        patternErrorMessage: "expected a letter first, then letters, digits, '_', '-' and single '.'",
      },
      extends: {
        description:
          'Path of the spec (.yaml, .yml or .net) this one is a variant of, relative to this file: it inherits input, blocks, modules and training, and may override params.',
        type: 'string',
        minLength: 1,
        pattern: '\\.([Yy][Aa]?[Mm][Ll]|[Nn][Ee][Tt])$',
        patternErrorMessage: 'expected the path of a spec file: *.yaml, *.yml or *.net',
      },
      params: {
        description:
          'Network parameters: name: default value. Overridable by extending specs and with --set name=value.',
        type: 'object',
        propertyNames: ref('identifier'),
        additionalProperties: ref('value'),
      },
      input: {
        description:
          'Input shape without the batch axis: [C, H, W] for images, [T, E] for tokens, [F] for flat features; positive integers or expressions.',
        type: 'array',
        minItems: 1,
        maxItems: 3,
        items: {
          description: `a positive integer, or ${EXPRESSION_WORDS}`,
          type: ['integer', 'string'],
          minimum: 1,
          pattern: EXPRESSION_PATTERN,
          patternErrorMessage: `expected a positive integer or ${EXPRESSION_WORDS}`,
        },
      },
      blocks: {
        description:
          'Reusable parameterized units, by name. In this schema a block name starts with an uppercase letter (ResBlock): that is how a block call is told from a misspelt layer kind.',
        type: 'object',
        propertyNames: {
          pattern: BLOCK_NAME_PATTERN,
          patternErrorMessage:
            'a block name starts with an uppercase letter (ResBlock), so that calls of it are not taken for layer kinds',
        },
        additionalProperties: ref('block'),
      },
      modules: {
        description:
          'The network, in order: a list of named layer sequences (`- stem: [...]`). Module names start every layer path.',
        type: 'array',
        items: ref('module'),
      },
      training: trainingSchema(),
    },
    required: ['netspec', 'name'],
    anyOf: [
      { description: 'a variant of another spec', required: ['extends'] },
      { description: 'a whole network: input and modules', required: ['input', 'modules'] },
    ],
    additionalProperties: false,
    definitions: definitions(),
  };
}
