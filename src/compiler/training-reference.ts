/**
 * The table of training settings in docs/language.md ("Training settings"), written from src/training-settings.ts
 * so that it cannot drift from what the compiler accepts; a test keeps the docs equal to it, and
 * scripts/generate.sh rewrites it.
 */
import {
  DEFAULT_TRAINING,
  SETTING_GROUPS,
  TRAINING_SETTINGS,
  type SettingDef,
  type SettingKind,
} from '../training-settings.js';

/** The markers around the generated table in docs/language.md. */
export const TRAINING_REFERENCE_BEGIN =
  '<!-- training-settings: generated from src/training-settings.ts by scripts/generate.sh; do not edit -->';
/** The end marker of the generated table. */
export const TRAINING_REFERENCE_END = '<!-- end of training-settings -->';

const KIND_WORDS: { readonly [K in SettingKind]: string } = {
  int: 'integer',
  number: 'number',
  bool: 'boolean',
  choice: 'choice',
  string: 'string',
  cadence: 'integer or `epoch`',
};

function range(def: SettingDef): string {
  if (def.kind === 'choice') return (def.choices ?? []).map((c) => `\`${c}\``).join(', ');
  if (def.kind === 'bool' || def.kind === 'string') return '';
  const parts: string[] = [];
  if (def.min !== undefined) parts.push(`${def.exclusiveMin ? '>' : '≥'} ${def.min}`);
  if (def.max !== undefined) parts.push(`${def.exclusiveMax ? '<' : '≤'} ${def.max}`);
  return parts.join(', ');
}

/** Text as one table cell: pipes escaped, and `<rank>` shown, not read as an HTML tag. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/** The Markdown table of every training setting (key, kind, range, default, description), with its markers. */
export function trainingReference(): string {
  const rows = TRAINING_SETTINGS.map((def) => {
    const fallback = DEFAULT_TRAINING[def.field];
    const shown = `\`${String(fallback)}\``;
    return `| \`${def.key}\` | ${KIND_WORDS[def.kind]} | ${cell(range(def))} | ${shown} | ${cell(def.description)} |`;
  });
  return [
    TRAINING_REFERENCE_BEGIN,
    '',
    `${TRAINING_SETTINGS.length} settings; the groups are ${SETTING_GROUPS.map((g) => `\`${g}\``).join(', ')} (a dotted key is a member of its group).`,
    '',
    '| Key | Kind | Range | Default | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    TRAINING_REFERENCE_END,
  ].join('\n');
}

/** `doc` with the text between the markers (markers included) replaced by `trainingReference()`. */
export function withTrainingReference(doc: string): string {
  const begin = doc.indexOf(TRAINING_REFERENCE_BEGIN);
  const end = doc.indexOf(TRAINING_REFERENCE_END);
  if (begin < 0 || end < begin) return doc;
  return doc.slice(0, begin) + trainingReference() + doc.slice(end + TRAINING_REFERENCE_END.length);
}
