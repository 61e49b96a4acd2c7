/**
 * Offsets ↔ editor positions. Spans hold 0-based UTF-16 offsets; the Language Server Protocol speaks 0-based lines
 * and UTF-16 characters, with lines ending at `\r\n`, `\n` or a lone `\r` (as `LineMap` counts them).
 */

/** A position in a text as the protocol gives it: 0-based line and UTF-16 character. */
export interface TextPosition {
  readonly line: number;
  readonly character: number;
}

/** A range in a text: start inclusive, end exclusive. */
export interface TextRange {
  readonly start: TextPosition;
  readonly end: TextPosition;
}

/** The offsets where each line of `text` starts; build once per text. */
export class LineStarts {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  /** The position of `offset` (clamped into the text). */
  position(offset: number): TextPosition {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - (this.starts[lo] ?? 0) };
  }

  /** The offset of `position`; a character past its line's end is the end of the line. */
  offset(position: TextPosition): number {
    if (position.line < 0) return 0;
    const start = this.starts[position.line];
    if (start === undefined) return this.text.length;
    const next = this.starts[position.line + 1];
    let end = next ?? this.text.length;
    // The line's own text ends before its line break.
    while (end > start && (this.text.charCodeAt(end - 1) === 10 || this.text.charCodeAt(end - 1) === 13))
      end--;
    return Math.min(start + Math.max(0, position.character), end);
  }

  /** The range of [offset, endOffset). */
  range(offset: number, endOffset: number): TextRange {
    return { start: this.position(offset), end: this.position(Math.max(offset, endOffset)) };
  }
}
