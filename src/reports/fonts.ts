/**
 * The font file the PNG renderings (training curves, confusion matrices, `netspec draw`) give resvg, in a module
 * of its own so that finding it loads neither vega nor resvg.
 */
import fs from 'node:fs';

/** A font file and the family name it is known by in SVGs. */
export interface ChartFont {
  readonly file: string;
  readonly family: string;
}

/** Places where common sans-serif fonts live, in order of preference. */
const FONT_CANDIDATES: readonly ChartFont[] = [
  { file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' }, // Debian, Ubuntu
  { file: '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf', family: 'DejaVu Sans' }, // Fedora
  { file: '/usr/share/fonts/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/TTF/DejaVuSans.ttf', family: 'DejaVu Sans' }, // Arch
  { file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', family: 'Liberation Sans' },
  { file: '/System/Library/Fonts/Supplemental/Arial.ttf', family: 'Arial' }, // macOS
  { file: '/Library/Fonts/Arial.ttf', family: 'Arial' },
  { file: 'C:\\Windows\\Fonts\\arial.ttf', family: 'Arial' },
];

/**
 * The first known sans-serif font file present, or null (then PNG text depends on what resvg finds among the
 * system fonts, and may be missing: on Debian install `fonts-dejavu-core`).
 */
export function findChartFont(exists: (file: string) => boolean = fs.existsSync): ChartFont | null {
  return FONT_CANDIDATES.find((c) => exists(c.file)) ?? null;
}
