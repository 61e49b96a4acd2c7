/**
 * Number and table formatting that reproduces Python's and pandas' output exactly, so that reports claiming
 * torchsummary or torchstat compatibility match those tools byte for byte. JavaScript's own formatting differs
 * in small ways that show (`(0.125).toFixed(2)` is '0.13', Python's `'%.2f' % 0.125` is '0.12').
 */

/** Splits a finite double into an exact `mantissa * 2^exponent` with an integer mantissa. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0
    ? { mantissa: fraction, exponent: -1074 }
    : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** `|x| * 10^power` rounded half to even, computed exactly from the binary value of `x`. */
function roundScaled(x: number, power: number): bigint {
  const { mantissa, exponent } = decompose(x);
  let numerator = mantissa;
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  if (power >= 0) numerator *= 10n ** BigInt(power);
  else denominator *= 10n ** BigInt(-power);
  const q = numerator / denominator;
  const twice = 2n * (numerator - q * denominator);
  return twice > denominator || (twice === denominator && (q & 1n) === 1n) ? q + 1n : q;
}

/** Python's `'%.{digits}f' % x`: the exact value rounded half to even (JavaScript's toFixed may round ties up). */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const s = roundScaled(x, digits)
    .toString()
    .padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits);
  return digits > 0 ? `${sign}${whole}.${s.slice(s.length - digits)}` : `${sign}${whole}`;
}

/** Python's `'%.{digits}e' % x` (rounded half to even; exponent signed, at least two digits). */
export function formatExponent(x: number, digits: number): string {
  if (!Number.isFinite(x)) return formatFixed(x, digits);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  let e = x === 0 ? 0 : Number(Math.abs(x).toExponential().split('e')[1]);
  let q = roundScaled(x, digits - e);
  if (q >= 10n ** BigInt(digits + 1)) q = roundScaled(x, digits - ++e);
  const s = q.toString().padStart(digits + 1, '0');
  const mantissa = digits > 0 ? `${s[0] ?? ''}.${s.slice(1)}` : s;
  return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Python's `repr(float)`: shortest round-trip digits, `1.0` for integers, exponent from 1e16 and below 1e-4. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exp = '0'] = x.toExponential().split('e');
  const e = Number(exp);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (e < -4 || e >= 16) {
    const rest = digits.slice(1);
    return `${sign}${digits[0] ?? ''}${rest ? `.${rest}` : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/** Inserts thousands separators into a run of decimal digits (with an optional leading minus). */
function groupDigits(s: string): string {
  const sign = s.startsWith('-') ? '-' : '';
  const digits = sign ? s.slice(1) : s;
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Python's `'{:,}'.format(n)` for an integer. */
export function groupThousands(n: number | bigint): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n))
    throw new Error(`internal: ${n} is not a safe integer`);
  return groupDigits(n.toString());
}

/** Python's `'{:,}'.format(x)` for a float: its repr with the integer part grouped (`1,605,632.0`). */
export function groupFloat(x: number): string {
  const repr = pythonFloatRepr(x);
  if (/e/.test(repr) || !/^-?\d/.test(repr)) return repr;
  const [whole = '', fraction = ''] = repr.split('.');
  return `${groupDigits(whole)}.${fraction}`;
}

/**
 * pandas' formatting of a float64 column in `DataFrame.to_string()` (display.precision 6): `' .6f'` with trailing
 * zeros trimmed alike in every cell (at least one decimal kept), or `' .6e'` when a value exceeds 1e6 and the
 * fixed form gets longer than 12 characters. The leading space is pandas' room for a minus sign.
 */
export function pandasFloatColumn(values: readonly number[]): string[] {
  const digits = 6;
  const signed = (s: string): string => (s.startsWith('-') ? s : ` ${s}`);
  let cells = values.map((v) => signed(formatFixed(v, digits)));
  const isDecimal = (s: string): boolean => /^\s*[+-]?\d+\.\d*$/.test(s);
  const shouldTrim = (list: readonly string[]): boolean => {
    const numbers = list.filter(isDecimal);
    return numbers.length > 0 && numbers.every((s) => s.endsWith('0'));
  };
  while (shouldTrim(cells)) cells = cells.map((s) => (isDecimal(s) ? s.slice(0, -1) : s));
  cells = cells.map((s) => (isDecimal(s) && s.endsWith('.') ? `${s}0` : s));
  const tooLong = cells.some((s) => s.length > digits + 6);
  const hasLarge = values.some((v) => Math.abs(v) > 1e6);
  const hasSmall = values.some((v) => Math.abs(v) < 10 ** -digits && v !== 0);
  if (hasSmall || (tooLong && hasLarge)) cells = values.map((v) => signed(formatExponent(v, digits)));
  return cells;
}

/** pandas' formatting of an object (string) column: each cell gets one leading space. */
export function pandasObjectColumn(values: readonly string[]): string[] {
  return values.map((v) => ` ${v}`);
}

/** One column of a pandas-style table: its header and its already formatted cells. */
export interface PandasColumn {
  readonly header: string;
  readonly cells: readonly string[];
  /** A numeric dtype column: pandas puts a space before its header, as before its values. */
  readonly numeric?: boolean;
}

/**
 * pandas' `DataFrame.to_string()` layout: a left-aligned index column, then each column right-aligned to the
 * width of its header or widest cell, columns joined by one space. Returns the lines (no trailing newline).
 */
export function pandasTable(index: readonly string[], columns: readonly PandasColumn[]): string[] {
  const indexWidth = Math.max(0, ...index.map((s) => s.length));
  const headers = columns.map((c) => (c.numeric ? ` ${c.header}` : c.header));
  const widths = columns.map((c, i) => Math.max(headers[i]?.length ?? 0, ...c.cells.map((s) => s.length)));
  const lines: string[] = [];
  const row = (first: string, cells: readonly string[]): string =>
    [first.padEnd(indexWidth), ...cells.map((s, i) => s.padStart(widths[i] ?? 0))].join(' ');
  lines.push(row('', headers));
  for (let r = 0; r < index.length; r++)
    lines.push(
      row(
        index[r] ?? '',
        columns.map((c) => c.cells[r] ?? ''),
      ),
    );
  return lines;
}

/** Python's `str.format` right alignment `{:>width}` (never truncates). */
export function alignRight(s: string, width: number): string {
  return s.padStart(width);
}

/**
 * JSON with 2-space indentation, like `JSON.stringify(value, null, 2)`, except that arrays of numbers, strings,
 * booleans or nulls (or of such arrays) stay on one line (`[64, 16, 16]`), which keeps shapes readable. Ends
 * with a newline.
 */
export function stringifyJson(value: unknown): string {
  const render = (v: unknown, indent: string): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const flat = (x: unknown): boolean => x === null || typeof x !== 'object';
      if (v.every((x) => flat(x) || (Array.isArray(x) && x.every(flat))))
        return `[${v.map((x) => render(x, inner)).join(', ')}]`;
      return `[\n${v.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${render(x, inner)}`).join(',\n')}\n${indent}}`;
  };
  return render(value, '') + '\n';
}
