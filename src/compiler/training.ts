/**
 * The training section's meaning: a spec's `training:` entries and `--set training.<key>=<value>` checked against
 * the settings table (src/training-settings.ts) into settings by field, each with where it came from. Pure: the
 * entries in, settings and located diagnostics out. Nothing here touches the network or its IR.
 */
import {
  clip,
  didYouMean,
  error,
  LineMap,
  MAX_DIAGNOSTICS,
  type Diagnostic,
  type Span,
} from '../diagnostics.js';
import type { TrainingDecl, TrainingEntry } from '../parser/ast.js';
import {
  DEFAULT_TRAINING,
  checkSetting,
  parseSetting,
  SETTING_BY_KEY,
  SETTING_GROUPS,
  TRAINING_SETTINGS,
  type PartialSettings,
  type SettingDef,
  type SettingField,
  type SettingValue,
} from '../training-settings.js';

/** Where each setting came from: `specs/lenet5.yaml:12` (the line of its key) or `--set`. */
export type TrainingOrigins = Partial<Record<SettingField, string>>;

/** Checked settings, by field, with their origins and the problems found. */
export interface TrainingCheck {
  readonly settings: PartialSettings;
  readonly origins: TrainingOrigins;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Names other tools use for a setting (PyTorch, Keras, Lightning), mapped to netspec's key, so the hint names the
 * right key even where the edit distance would not find it.
 */
export const TRAINING_KEY_ALIASES: Readonly<Record<string, string>> = {
  learning_rate: 'lr',
  lr_rate: 'lr',
  batchsize: 'batch_size',
  batch: 'batch_size',
  num_epochs: 'epochs',
  max_epochs: 'epochs',
  optim: 'optimizer',
  patience: 'early_stopping.patience',
  scheduler: 'schedule',
  lr_scheduler: 'schedule',
};

/** How the place a setting was written in spells one: the YAML section, the DSL section, or `--set`. */
export type SettingSyntax = 'yaml' | 'dsl' | 'set';

/**
 * The text that sets `key` (dotted) to `value` in `syntax`: `lr: 0.001`, `early_stopping: {patience: 3}`,
 * `early_stopping { patience = 3 }`, `--set training.lr=0.001`. Inside group `within` (the group the user is
 * writing in), a key of that group is written without it.
 */
export function writeSetting(
  syntax: SettingSyntax,
  key: string,
  value: SettingValue,
  within?: string,
): string {
  if (syntax === 'set') return `--set training.${key}=${String(value)}`;
  const dot = key.indexOf('.');
  const group = dot < 0 ? undefined : key.slice(0, dot);
  const name = dot < 0 ? key : key.slice(dot + 1);
  const shown =
    syntax === 'yaml' ? yamlScalar(value) : typeof value === 'string' ? JSON.stringify(value) : String(value);
  const plain = syntax === 'yaml' ? `${name}: ${shown}` : `${name} = ${shown}`;
  if (group === undefined || group === within) return plain;
  return syntax === 'yaml' ? `${group}: {${plain}}` : `${group} { ${plain} }`;
}

/** A value as YAML reads it back: plain where that stays a string, quoted otherwise. */
function yamlScalar(value: SettingValue): string {
  if (typeof value !== 'string') return String(value);
  const plainSafe =
    /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value);
  return plainSafe ? value : JSON.stringify(value);
}

/** The syntax of a spec file, from its name as the parser picks its front end. */
function syntaxOf(span: Span): SettingSyntax {
  return span.file.toLowerCase().endsWith('.net') ? 'dsl' : 'yaml';
}

/** `early_stopping.patience` → `['early_stopping', 'patience']`; `lr` → `[undefined, 'lr']`. */
function splitKey(key: string): [string | undefined, string] {
  const dot = key.indexOf('.');
  return dot < 0 ? [undefined, key] : [key.slice(0, dot), key.slice(dot + 1)];
}

const TOP_LEVEL_KEYS: readonly string[] = TRAINING_SETTINGS.filter((d) => !d.key.includes('.')).map(
  (d) => d.key,
);

/** The keys of one group, without the group: `monitor`, `mode`, `patience`, `min_delta`. */
function groupKeys(group: string): string[] {
  return TRAINING_SETTINGS.filter((d) => d.key.startsWith(`${group}.`)).map((d) =>
    d.key.slice(group.length + 1),
  );
}

/** A setting's default value (DEFAULT_TRAINING), as a spec writes it. */
function defaultOf(def: SettingDef): SettingValue {
  return DEFAULT_TRAINING[def.field];
}

/** What went wrong with one key, before a value is looked at. */
type KeyProblem = { readonly code: Diagnostic['code']; readonly message: string; readonly hint?: string };

/**
 * The row of a written key, or the problem with it: a group given a value, a value given as a group, an unknown
 * key (with netspec's name for another tool's word, a key of another group, or a close spelling).
 */
function lookUp(key: string, value: SettingValue, syntax: SettingSyntax): SettingDef | KeyProblem {
  const def = SETTING_BY_KEY.get(key);
  if (def) return def;
  const [group, name] = splitKey(key);
  if (group === undefined && SETTING_GROUPS.includes(name)) return groupGivenValue(name, value, syntax);
  if (group !== undefined && SETTING_BY_KEY.has(group)) return valueGivenGroup(group, syntax);
  if (group !== undefined && !SETTING_GROUPS.includes(group)) return unknownGroup(group, syntax);
  return unknownKey(key, value, syntax);
}

function groupGivenValue(group: string, value: SettingValue, syntax: SettingSyntax): KeyProblem {
  const keys = groupKeys(group);
  // The member the value fits first (early_stopping: 3 is a patience), else the first member at its default.
  const fitting = keys
    .map((k) => SETTING_BY_KEY.get(`${group}.${k}`))
    .find((d) => d && checkSetting(d, value).ok);
  const first = SETTING_BY_KEY.get(`${group}.${keys[0] ?? ''}`);
  const example = fitting
    ? writeSetting(syntax, fitting.key, value)
    : first
      ? writeSetting(syntax, first.key, defaultOf(first))
      : undefined;
  return {
    code: 'TRAINING_GROUP',
    message: `'${group}' is a group of training settings (${keys.join(', ')}), not a value`,
    ...(example !== undefined ? { hint: `write ${example}` } : {}),
  };
}

function valueGivenGroup(key: string, syntax: SettingSyntax): KeyProblem {
  const def = SETTING_BY_KEY.get(key);
  return {
    code: 'TRAINING_GROUP',
    message: `'${clip(key)}' is a training setting, not a group of settings`,
    ...(def ? { hint: `write ${writeSetting(syntax, key, defaultOf(def))}` } : {}),
  };
}

function unknownGroup(group: string, syntax: SettingSyntax): KeyProblem {
  // `augmentation`, `early_stop`: a group's name with a part added or cut is what was meant.
  const prefixed = SETTING_GROUPS.find((g) => group.startsWith(g) || g.startsWith(group));
  const near = didYouMean(group, SETTING_GROUPS) ?? (prefixed ? `did you mean '${prefixed}'?` : undefined);
  const alias = TRAINING_KEY_ALIASES[group];
  return {
    code: 'UNKNOWN_TRAINING_KEY',
    message: `unknown group of training settings '${clip(group)}' (the groups are ${SETTING_GROUPS.join(', ')})`,
    ...(near !== undefined
      ? { hint: near }
      : SETTING_BY_KEY.has(group) || alias !== undefined || syntax === 'set'
        ? {}
        : { hint: 'see docs/language.md, Training settings' }),
  };
}

function unknownKey(key: string, value: SettingValue, syntax: SettingSyntax): KeyProblem {
  const [group, name] = splitKey(key);
  const where = group === undefined ? 'training setting' : `${group} setting`;
  const message = `unknown ${where} '${clip(name)}'`;
  const suggest = (target: string, lead: string): KeyProblem => ({
    code: 'UNKNOWN_TRAINING_KEY',
    message,
    hint: `${lead}: write ${writeSetting(syntax, target, value, group)}`,
  });
  const alias = TRAINING_KEY_ALIASES[key] ?? (group === undefined ? undefined : TRAINING_KEY_ALIASES[name]);
  if (alias !== undefined && SETTING_BY_KEY.has(alias)) return suggest(alias, `netspec calls it ${alias}`);
  // The same word as a key elsewhere: `lr` inside a group, `top_k` outside `checkpoint`.
  const elsewhere = TRAINING_SETTINGS.filter((d) => d.key !== key && splitKey(d.key)[1] === name);
  if (elsewhere.length === 1 && elsewhere[0]) {
    const target = elsewhere[0].key;
    const [targetGroup] = splitKey(target);
    return suggest(
      target,
      targetGroup === undefined ? 'it is a top-level setting' : `it belongs to ${targetGroup}`,
    );
  }
  const candidates = group === undefined ? [...TOP_LEVEL_KEYS, ...SETTING_GROUPS] : groupKeys(group);
  const near = didYouMean(name, candidates);
  if (near !== undefined) {
    const target = candidates.find((c) => near === `did you mean '${c}'?`) ?? '';
    const full = group === undefined ? target : `${group}.${target}`;
    if (SETTING_BY_KEY.has(full)) return suggest(full, near.replace(/\?$/, ''));
    return { code: 'UNKNOWN_TRAINING_KEY', message, hint: near };
  }
  if (elsewhere.length > 1)
    return {
      code: 'UNKNOWN_TRAINING_KEY',
      message,
      hint: `it belongs to a group: ${elsewhere.map((d) => d.key).join(' or ')}`,
    };
  return {
    code: 'UNKNOWN_TRAINING_KEY',
    message,
    hint:
      group === undefined
        ? `the settings are ${TOP_LEVEL_KEYS.join(', ')} and the groups ${SETTING_GROUPS.join(', ')}`
        : `its settings are ${groupKeys(group).join(', ')}`,
  };
}

/** The problem of a value its row refuses: the expected form, and a hint where one is plain. */
function valueProblem(
  def: SettingDef,
  value: SettingValue,
  problem: string,
  syntax: SettingSyntax,
  within?: string,
): KeyProblem {
  let hint: string | undefined;
  if (def.kind === 'choice' && typeof value === 'string') hint = didYouMean(value, def.choices ?? []);
  else if (typeof value === 'string' && syntax !== 'set') {
    // A number or flag written as a string (`lr: "0.01"`, `nesterov = "true"`).
    const parsed = parseSetting(def, value);
    if (parsed.ok && typeof parsed.value !== 'string')
      hint = `write ${writeSetting(syntax, def.key, parsed.value, within)}`;
  }
  return {
    code: 'TRAINING_VALUE',
    message: `training setting '${def.key}': ${problem}`,
    ...(hint !== undefined ? { hint } : {}),
  };
}

/**
 * Checks a spec's training section (its own entries and what it inherited): every key against the table, every
 * value with `checkSetting`, each key and each group at most once per file. Hints are written in the syntax of
 * the file each entry comes from.
 */
export function checkTraining(decl: TrainingDecl | undefined): TrainingCheck {
  const settings: Record<string, SettingValue> = {};
  const origins: TrainingOrigins = {};
  const diagnostics: Diagnostic[] = [];
  if (!decl) return { settings, origins, diagnostics };
  const badGroups = new Set<string>();
  const seenGroups = new Map<string, Span>();
  // Past this many problems in one loop no more are worded: only the first MAX_DIAGNOSTICS are ever shown, and
  // a hostile section of 90,000 unknown keys took 2.4 s to hint at each.
  const cap = 10 * MAX_DIAGNOSTICS;
  for (const group of decl.groups) {
    if (diagnostics.length >= cap) break;
    const id = `${group.keySpan.file}\u0000${group.key}`;
    const first = seenGroups.get(id);
    if (first) {
      diagnostics.push(
        error(
          'DUPLICATE_TRAINING_KEY',
          `duplicate group '${clip(group.key)}' (first given at ${first.line}:${first.col})`,
          group.keySpan,
          'put all its settings in the first one',
        ),
      );
      continue;
    }
    seenGroups.set(id, group.keySpan);
    if (SETTING_GROUPS.includes(group.key)) continue;
    badGroups.add(id);
    const syntax = syntaxOf(group.keySpan);
    const problem = SETTING_BY_KEY.has(group.key)
      ? valueGivenGroup(group.key, syntax)
      : unknownGroup(group.key, syntax);
    diagnostics.push(error(problem.code, problem.message, group.keySpan, problem.hint));
  }
  const seen = new Map<string, TrainingEntry>();
  const fromGroups = diagnostics.length;
  for (const entry of decl.entries) {
    if (diagnostics.length - fromGroups >= cap) break;
    const [group] = splitKey(entry.key);
    if (group !== undefined && badGroups.has(`${entry.keySpan.file}\u0000${group}`)) continue;
    const id = `${entry.keySpan.file}\u0000${entry.key}`;
    const first = seen.get(id);
    if (first) {
      diagnostics.push(
        error(
          'DUPLICATE_TRAINING_KEY',
          `duplicate training setting '${clip(entry.key)}' (first given at ${first.keySpan.line}:${first.keySpan.col})`,
          entry.keySpan,
          'give each setting once',
        ),
      );
      continue;
    }
    seen.set(id, entry);
    const syntax = syntaxOf(entry.keySpan);
    const found = lookUp(entry.key, entry.value, syntax);
    if (!('field' in found)) {
      diagnostics.push(error(found.code, found.message, entry.keySpan, found.hint));
      continue;
    }
    const checked = checkSetting(found, entry.value);
    if (!checked.ok) {
      const problem = valueProblem(found, entry.value, checked.problem, syntax, group);
      diagnostics.push(error(problem.code, problem.message, entry.valueSpan, problem.hint));
      continue;
    }
    settings[found.field] = checked.value;
    origins[found.field] = `${entry.keySpan.file}:${entry.keySpan.line}`;
  }
  return { settings: settings as PartialSettings, origins, diagnostics: inWrittenOrder(decl, diagnostics) };
}

/** Diagnostics by file (in the order the section's files come) and position, as the user reads them. */
function inWrittenOrder(decl: TrainingDecl, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const files = [
    ...new Set([...decl.entries.map((e) => e.keySpan.file), ...decl.groups.map((g) => g.keySpan.file)]),
  ];
  const rank = (d: Diagnostic): number => files.indexOf(d.span?.file ?? '');
  return [...diagnostics].sort((a, b) => rank(a) - rank(b) || (a.span?.offset ?? 0) - (b.span?.offset ?? 0));
}

/** The prefix of a `--set` assignment that sets a training setting instead of a network parameter. */
export const TRAINING_SET_PREFIX = 'training.';

/** True for a `--set` assignment of a training setting (`training.lr=0.01`). */
export function isTrainingAssignment(assignment: string): boolean {
  const eq = assignment.indexOf('=');
  return (eq < 0 ? assignment : assignment.slice(0, eq)).trim().startsWith(TRAINING_SET_PREFIX);
}

/**
 * Parses the `--set training.<key>=<value>` assignments among `assignments` with `parseSetting`; positions point
 * into the pseudo-file `--set` (all assignments joined by newlines, as `parseOverrides` counts them). Later
 * assignments of a key win.
 */
export function parseTrainingOverrides(assignments: readonly string[]): TrainingCheck {
  const settings: Record<string, SettingValue> = {};
  const origins: TrainingOrigins = {};
  const diagnostics: Diagnostic[] = [];
  const map = new LineMap('--set', assignments.join('\n'));
  let offset = 0;
  for (const assignment of assignments) {
    const start = offset;
    offset += assignment.length + 1;
    if (!isTrainingAssignment(assignment)) continue;
    const eq = assignment.indexOf('=');
    const name = eq >= 0 ? assignment.slice(0, eq).trim() : assignment.trim();
    const key = name.slice(TRAINING_SET_PREFIX.length);
    const raw = eq >= 0 ? assignment.slice(eq + 1) : '';
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(key) || raw.trim() === '') {
      diagnostics.push(
        error(
          'SET_SYNTAX',
          `--set expects training.<key>=<value>, found '${clip(assignment)}'`,
          map.span(start, start + assignment.length),
          'for example --set training.lr=0.01 or --set training.early_stopping.patience=5',
        ),
      );
      continue;
    }
    const keyStart = start + assignment.indexOf(TRAINING_SET_PREFIX) + TRAINING_SET_PREFIX.length;
    const keySpan = map.span(keyStart, keyStart + key.length);
    const parsedGuess: SettingValue = raw.trim();
    const found = lookUp(key, guessValue(parsedGuess), 'set');
    if (!('field' in found)) {
      diagnostics.push(error(found.code, `--set: ${found.message}`, keySpan, found.hint));
      continue;
    }
    const parsed = parseSetting(found, raw);
    if (!parsed.ok) {
      const problem = valueProblem(found, raw.trim(), parsed.problem, 'set');
      diagnostics.push(
        error(
          problem.code,
          `--set: ${problem.message}`,
          map.span(start + eq + 1, start + assignment.length),
          problem.hint,
        ),
      );
      continue;
    }
    settings[found.field] = parsed.value;
    origins[found.field] = '--set';
  }
  return { settings: settings as PartialSettings, origins, diagnostics };
}

/** A command-line value as the hints show it: a number or flag where the text is one. */
function guessValue(text: string): SettingValue {
  if (text === 'true' || text === 'false') return text === 'true';
  return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}
