/**
 * Structural check of a loaded spec against netspec.schema.json, with ajv's errors turned into located,
 * human-sized issues. This module knows nothing about YAML: issues carry a path into the data, and the
 * front end turns the path into a source position.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { clip, didYouMean } from '../../diagnostics.js';
import type { DiagnosticCode } from '../../diagnostics.js';
import schema from './netspec.schema.json' with { type: 'json' };

/** The JSON Schema of the YAML form, for editors and docs. */
export const netspecSchema: object = schema;

/**
 * One structural problem. `path` leads from the document root to the offending value; when `key` is set the
 * problem is that key of the map at `path` (an unknown or badly named key), not the map itself.
 */
export interface SchemaIssue {
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly path: readonly string[];
  readonly key?: string;
  readonly hint?: string;
}

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (!validator) {
    // strictRequired is off because `if: {not: {required: [extends]}}` names a property on purpose.
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    // Annotations used only to word the messages below.
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-shape', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-example', schemaType: 'string' });
    validator = ajv.compile(schema);
  }
  return validator;
}

/**
 * Checks `data` (plain data: null-prototype maps, arrays, scalars) against the schema; [] when it conforms. At most
 * `maxIssues` issues are returned (a hostile map of 100,000 unknown keys has as many; wording each costs more than
 * the whole validation, and only the first few are ever shown).
 */
export function checkSchema(data: unknown, maxIssues: number = Infinity): SchemaIssue[] {
  const validate = getValidator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: SchemaIssue): void => {
    const id = `${issue.path.join('\u0000')}\u0001${issue.key ?? ''}\u0001${issue.code}\u0001${issue.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    issues.push(issue);
  };
  // A value of the wrong type also fails its const/enum/pattern; the type error says it best.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  // Indexes of the errors that others refer to, so each error is translated in constant time.
  const context: ErrorIndex = {
    propertyNames: new Set(errors.filter((e) => e.keyword === 'propertyNames').map((e) => e.instancePath)),
    expectedByPath: new Map(),
  };
  for (const e of errors) {
    const what = e.keyword === 'if' ? expectedOf(e) : undefined;
    if (what !== undefined && !context.expectedByPath.has(e.instancePath))
      context.expectedByPath.set(e.instancePath, what);
  }
  for (const e of errors) {
    if (issues.length >= maxIssues) break;
    if (e.keyword !== 'type' && wrongType.has(e.instancePath)) continue;
    const issue = translate(e, context, data);
    if (issue) add(issue);
  }
  return issues;
}

/** What translating one error needs to know about the others. */
interface ErrorIndex {
  /** Instance paths that have a propertyNames error (its other errors are about a key, not the value). */
  readonly propertyNames: ReadonlySet<string>;
  /** For each instance path, what the first `if` error there says was expected. */
  readonly expectedByPath: Map<string, string>;
}

function translate(e: ErrorObject, index: ErrorIndex, root: unknown): SchemaIssue | undefined {
  const path = pointerToPath(e.instancePath);
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const expected = typeof parent['x-expected'] === 'string' ? parent['x-expected'] : undefined;
  const params = e.params as Record<string, unknown>;
  // Errors raised while checking a property *name* (propertyNames) report the map's path but the key's data;
  // they are covered by the propertyNames error itself.
  if (e.keyword !== 'propertyNames' && isAboutPropertyName(e, index, root, path)) return undefined;

  switch (e.keyword) {
    case 'type': {
      const types = Array.isArray(params['type']) ? (params['type'] as string[]) : [String(params['type'])];
      // A structure written in another form (`modules: {stem: [...]}`) is shown in the right form.
      const example = typeof parent['x-example'] === 'string' ? parent['x-example'] : undefined;
      return {
        code: 'WRONG_TYPE',
        message: `expected ${expected ?? types.map(typeName).join(' or ')}, found ${describe(e.data)}`,
        path,
        ...(example !== undefined ? { hint: example } : {}),
      };
    }
    case 'pattern': {
      if (expected !== undefined)
        return { code: 'BAD_VALUE', message: `expected ${expected}, found ${describe(e.data)}`, path };
      // The pattern of an expression: the value was a plain string where a number or flag belongs.
      const what = index.expectedByPath.get(e.instancePath) ?? 'an expression';
      return {
        code: 'WRONG_TYPE',
        message: `expected ${what}, found ${describe(e.data)}`,
        path,
        hint: "expressions are strings starting with '$' (e.g. $out, $out * 4)",
      };
    }
    case 'if':
      return undefined;
    case 'const':
      return {
        code: 'BAD_VALUE',
        message: `expected ${JSON.stringify(params['allowedValue'])}, found ${describe(e.data)}`,
        path,
      };
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      return {
        code: 'BAD_VALUE',
        message: `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, found ${describe(e.data)}`,
        path,
        ...(hint !== undefined ? { hint } : {}),
      };
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      const conditional = e.schemaPath.startsWith('#/then/');
      return {
        code: 'MISSING_KEY',
        message: `missing required key '${missing}'${conditional ? ' (required unless the spec extends another)' : ''}`,
        path,
      };
    }
    case 'dependencies':
      return {
        code: 'MISSING_KEY',
        message: `'${String(params['property'])}' requires '${String(params['missingProperty'])}'`,
        path,
        key: String(params['property']),
        hint: `add '${String(params['missingProperty'])}: add'`,
      };
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((parent['properties'] ?? {}) as object);
      const hint = didYouMean(key, known);
      return {
        code: 'UNKNOWN_KEY',
        message: `unknown key '${clip(key)}'${known.length > 0 ? ` (expected ${known.map((k) => `'${k}'`).join(', ')})` : ''}`,
        path,
        key,
        ...(hint !== undefined ? { hint } : {}),
      };
    }
    case 'propertyNames': {
      const key = String(params['propertyName']);
      return {
        code: 'BAD_VALUE',
        message: `invalid name '${clip(key)}': use letters, digits and _, not starting with a digit`,
        path,
        key,
        ...(key === '<<' ? { hint: 'YAML merge keys (<<) are not supported; write the entries out' } : {}),
      };
    }
    case 'minProperties':
    case 'maxProperties': {
      const shape = typeof parent['x-shape'] === 'string' ? parent['x-shape'] : 'wrong number of keys';
      const keys = isRecord(e.data) ? Object.keys(e.data) : [];
      const found =
        keys.length === 0 ? 'an empty map' : `${keys.length} keys (${clip(keys.join(', '), 200)})`;
      const hint =
        keys.length > 1 && isRecord(e.data) && e.data[keys[0] ?? ''] === null
          ? `indent the other keys under '${clip(keys[0] ?? '')}' to make them its arguments`
          : undefined;
      return {
        code: 'SCHEMA',
        message: `${shape}, found ${found}`,
        path,
        ...(hint !== undefined ? { hint } : {}),
      };
    }
    case 'minItems':
      return {
        code: 'SCHEMA',
        message: `expected at least ${String(params['limit'])} item(s), found none`,
        path,
      };
    case 'minLength':
      return { code: 'BAD_VALUE', message: 'expected a non-empty string', path };
    default:
      return { code: 'SCHEMA', message: e.message ?? `violates ${e.keyword}`, path };
  }
}

function expectedOf(e: ErrorObject): string | undefined {
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  return typeof parent['x-expected'] === 'string' ? parent['x-expected'] : undefined;
}

/** True when `e` was raised for a property name: ajv gives it the map's path but the name as its data. */
function isAboutPropertyName(e: ErrorObject, index: ErrorIndex, root: unknown, path: string[]): boolean {
  if (typeof e.data !== 'string') return false;
  if (!index.propertyNames.has(e.instancePath)) return false;
  return typeof valueAt(root, path) !== 'string';
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRecord(cur)) cur = Object.prototype.hasOwnProperty.call(cur, seg) ? cur[seg] : undefined;
    else return undefined;
  }
  return cur;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** JSON Pointer (RFC 6901) → path segments. */
function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function typeName(t: string): string {
  if (t === 'object') return 'map';
  if (t === 'array') return 'list';
  return t;
}

/** `string "abc"`, `number 1.5`, `map`: what the user wrote, short. */
function describe(data: unknown): string {
  if (data === null || data === undefined) return 'an empty value';
  if (typeof data === 'string') {
    const s = data.length > 40 ? `${data.slice(0, 37)}...` : data;
    return `string ${JSON.stringify(s)}`;
  }
  if (typeof data === 'number')
    return `${Number.isInteger(data) ? 'integer' : 'number'} ${clip(String(data))}`;
  if (typeof data === 'boolean') return `boolean ${String(data)}`;
  if (Array.isArray(data)) return 'a list';
  return 'a map';
}
