/** Reads a torchstat table (the seed's or netspec's) back into cells, by the right edges of its headers. */

/** One parsed row: its index label ('0', ..., 'total') and its cells by column header. */
export interface ParsedRow {
  readonly index: string;
  readonly cells: Readonly<Record<string, string>>;
}

/** A parsed table: the "not supported" messages before it, its headers, rows, and the footer after it. */
export interface ParsedTable {
  readonly messages: string[];
  readonly header: string;
  readonly headers: string[];
  readonly rows: ParsedRow[];
  readonly footer: string[];
}

const KNOWN = [
  'module name',
  'input shape',
  'output shape',
  'params',
  'memory(MB)',
  'MAdd',
  'Flops',
  'MemRead(B)',
  'MemWrite(B)',
  'duration[%]',
  'MemR+W(B)',
];

/** Parses the text torchstat prints (messages, table, footer); stops at the first blank line after the footer. */
export function parseTorchstat(text: string): ParsedTable {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => l.includes('module name'));
  const header = lines[h] ?? '';
  const headers = KNOWN.filter((name) => header.includes(name));
  const ends = headers.map((name) => header.indexOf(name) + name.length);
  const rows: ParsedRow[] = [];
  let i = h + 1;
  for (; i < lines.length && !(lines[i] ?? '').startsWith('='); i++) {
    const line = lines[i] ?? '';
    const first = line.slice(0, ends[0]).trim().split(/\s+/);
    const cells: Record<string, string> = { 'module name': first.length > 1 ? (first[1] ?? '') : '' };
    headers.forEach((name, c) => {
      if (c > 0) cells[name] = line.slice(ends[c - 1], ends[c]).trim();
    });
    rows.push({ index: first[0] ?? '', cells });
  }
  const footer: string[] = [];
  for (; i < lines.length && lines[i] !== ''; i++) footer.push(lines[i] ?? '');
  return { messages: lines.slice(0, h), header, headers, rows, footer };
}
