/**
 * Finds where a JSON text goes wrong. `JSON.parse` is used for the real parse (it is fast), but V8's messages do
 * not always carry a position ("Unexpected token '}', ... is not valid JSON"), so after it fails this scanner walks
 * the text again to find the first offending offset and the value's path. It also recognises the NaN, Infinity and
 * -Infinity tokens that Python's json.dump writes by default, so that those can be reported as bad samples.
 */

/** The first problem in a JSON text. */
export interface JsonProblem {
  /** 0-based UTF-16 offset of the offending character (the text length at end of input). */
  readonly offset: number;
  /** What is wrong, in words ("expected ',' or ']' after an array element, found '}'"). */
  readonly message: string;
  /** Path of the value being read, e.g. `[0][0][17][5]` (empty at the top level). */
  readonly path: readonly (number | string)[];
  /** Set when the problem is a Python non-finite token (NaN, Infinity, -Infinity) in place of a number. */
  readonly nonFinite?: string;
}

/** Formats a path as `[0][0][17]` / `.key`. */
export function formatPath(path: readonly (number | string)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

const MAX_DEPTH = 1000;

class Stop {
  constructor(readonly problem: JsonProblem) {}
}

/** Scans `text` as JSON; returns the first problem, or undefined when the text is valid JSON. */
export function findJsonProblem(text: string): JsonProblem | undefined {
  let i = 0;
  const path: (number | string)[] = [];

  const describe = (at: number): string => (at >= text.length ? 'end of file' : `'${text[at]}'`);
  const stop = (offset: number, message: string, nonFinite?: string): never => {
    throw new Stop({ offset, message, path: [...path], ...(nonFinite !== undefined ? { nonFinite } : {}) });
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  const literal = (word: string): boolean => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return true;
    }
    return false;
  };
  const digits = (): number => {
    const from = i;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    return i - from;
  };
  const number = (): void => {
    const start = i;
    if (text[i] === '-') {
      i++;
      if (literal('Infinity'))
        stop(start, '-Infinity is not valid JSON (Python writes it for -inf)', '-Infinity');
    }
    if (text[i] === '0') {
      i++;
      if (digits() > 0) stop(start, 'numbers must not have leading zeros');
    } else if (digits() === 0) {
      stop(i, `expected a digit, found ${describe(i)}`);
    }
    if (text[i] === '.') {
      i++;
      if (digits() === 0) stop(i, `expected a digit after the decimal point, found ${describe(i)}`);
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (digits() === 0) stop(i, `expected a digit in the exponent, found ${describe(i)}`);
    }
  };
  const string = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) stop(start, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return text.slice(start + 1, i - 1);
      }
      if (c < 32) stop(i, 'control character inside a string');
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) stop(i, 'bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          stop(i, 'bad escape in string');
        }
      } else {
        i++;
      }
    }
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) stop(i, `nested more than ${MAX_DEPTH} levels deep`);
    ws();
    const c = text[i];
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        path.push(index);
        value(depth + 1);
        path.pop();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        path.push(index);
        stop(i, `expected ',' or ']' after an array element, found ${describe(i)}`);
      }
    }
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(i, `expected a property name in double quotes, found ${describe(i)}`);
        const key = string();
        ws();
        if (text[i] !== ':') stop(i, `expected ':' after a property name, found ${describe(i)}`);
        i++;
        path.push(key);
        value(depth + 1);
        path.pop();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop(i, `expected ',' or '}' after a property value, found ${describe(i)}`);
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      number();
      return;
    }
    if (literal('true') || literal('false') || literal('null')) return;
    if (text.startsWith('NaN', i)) stop(i, 'NaN is not valid JSON (Python writes it for a float nan)', 'NaN');
    if (text.startsWith('Infinity', i))
      stop(i, 'Infinity is not valid JSON (Python writes it for inf)', 'Infinity');
    stop(
      i,
      i >= text.length
        ? 'unexpected end of file: a value is missing'
        : `expected a value, found ${describe(i)}`,
    );
  };

  try {
    // A byte-order mark is not JSON; say so rather than report a strange first character.
    if (text.charCodeAt(0) === 0xfeff)
      stop(0, 'the file starts with a byte-order mark (BOM), which JSON does not allow');
    value(0);
    ws();
    if (i < text.length) stop(i, `unexpected ${describe(i)} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.problem;
    throw e;
  }
}
