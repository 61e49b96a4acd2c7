/**
 * Token types of the DSL and of standalone expressions, and the two lexers over them. The DSL lexer treats `//`
 * as a comment (the canonical specs start with one); the expression lexer has no comments, so there `//` is
 * floor division. In the DSL floor division is spelled `div`.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

/**
 * Any word usable as a layer's name (`shortcut = conv(...)`): identifiers and the structural keywords. Not the
 * expression keywords: after `f() * n` a line `and = g()` would read as `n and ...`.
 */
export const AnyName = createToken({ name: 'AnyName', pattern: Lexer.NA, label: 'a name' });

/** A plain identifier: parameter, block, module, layer or argument name. */
export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: 'a name',
  categories: [AnyName],
});

/** `$out`: YAML's way of writing a parameter reference, accepted in every expression. */
export const DollarIdentifier = createToken({
  name: 'DollarIdentifier',
  pattern: /\$[A-Za-z_][A-Za-z0-9_]*/,
  label: 'a name',
});

/**
 * `in.channels`, `$in.height`: a dotted name, read as one reference (the shape of a block's input). Lexed before
 * the keywords, so `input.x` is one name too; no other rule reads it.
 */
export const QualifiedName = createToken({
  name: 'QualifiedName',
  pattern: /\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+/,
  label: 'a name',
});

function keyword(word: string, usableAsLayerName = true): TokenType {
  return createToken({
    name: `Kw${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    categories: usableAsLayerName ? [AnyName] : [],
  });
}

/** `network` */ export const KwNetwork = keyword('network');
/** `extends` */ export const KwExtends = keyword('extends');
/** `input` */ export const KwInput = keyword('input');
/** `block` */ export const KwBlock = keyword('block');
/** `module` */ export const KwModule = keyword('module');
/** `shortcut` */ export const KwShortcut = keyword('shortcut');
/** `when` */ export const KwWhen = keyword('when');
/** `merge` */ export const KwMerge = keyword('merge');
/** `add` */ export const KwAdd = keyword('add');
/** `if` (not a layer name: `merge add` then `if = f()` would read as a condition) */
export const KwIf = keyword('if', false);
/** `true` */ export const KwTrue = keyword('true', false);
/** `false` */ export const KwFalse = keyword('false', false);
/** `and` */ export const KwAnd = keyword('and', false);
/** `or` */ export const KwOr = keyword('or', false);
/** `not` */ export const KwNot = keyword('not', false);
/** `div`: floor division, the DSL's spelling of `//`. */ export const KwDiv = keyword('div', false);
/**
 * `training`, a soft keyword: it starts the network's training section, and is an Identifier everywhere else (its
 * category), so a parameter, layer or argument may still be named `training`.
 */
export const KwTraining = createToken({
  name: 'KwTraining',
  pattern: /training/,
  longer_alt: Identifier,
  label: "'training'",
  categories: [Identifier],
});

/** Every reserved word, for the printer (which quotes names that would lex as keywords). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'network',
  'extends',
  'input',
  'block',
  'module',
  'shortcut',
  'when',
  'merge',
  'add',
  'if',
  'true',
  'false',
  'and',
  'or',
  'not',
  'div',
]);

/** A string literal with JSON's escapes (raw tabs allowed, raw newlines not). */
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^"\\\n\r]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/,
  label: 'a string',
});

/**
 * A string that is unterminated or has a bad escape. Lexing it as one token lets us report one precise error
 * and keep parsing (it is handed to the parser as a StringLiteral).
 */
export const BadString = createToken({ name: 'BadString', pattern: /"(?:[^"\\\n\r]|\\[^\n\r]?)*"?/ });

/** `0.5`, `1e-5`, `.5`: any number with a fraction or an exponent. */
export const FloatLiteral = createToken({
  name: 'FloatLiteral',
  pattern: /(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
  label: 'a number',
});
/** `64` */
export const IntLiteral = createToken({ name: 'IntLiteral', pattern: /\d+/, label: 'an integer' });

/** `==` */ export const EqEq = createToken({ name: 'EqEq', pattern: /==/, label: "'=='" });
/** `!=` */ export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, label: "'!='" });
/** `<=` */ export const LtEq = createToken({ name: 'LtEq', pattern: /<=/, label: "'<='" });
/** `>=` */ export const GtEq = createToken({ name: 'GtEq', pattern: />=/, label: "'>='" });
/** `<` */ export const Lt = createToken({ name: 'Lt', pattern: /</, label: "'<'" });
/** `>` */ export const Gt = createToken({ name: 'Gt', pattern: />/, label: "'>'" });
/** `=` */ export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
/** `+` */ export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
/** `-` */ export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
/** `*` */ export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
/** `//` (expressions only; a comment in the DSL) */
export const FloorDiv = createToken({ name: 'FloorDiv', pattern: /\/\//, label: "'//'" });
/** `/` */ export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
/** `%` */ export const Percent = createToken({ name: 'Percent', pattern: /%/, label: "'%'" });
/** `(` */ export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
/** `)` */ export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
/** `[` */ export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
/** `]` */ export const RBracket = createToken({ name: 'RBracket', pattern: /]/, label: "']'" });
/** `{` */ export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
/** `}` */ export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });
/** `,` */ export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
/** `:` */ export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
/** `;` */ export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: "';'" });

/** Spaces, tabs, newlines and a byte-order mark are all just separators. */
export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n\f\v\uFEFF]+/,
  group: Lexer.SKIPPED,
});
/** `/* ... *\/` */
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
});
/** A `/*` that never closes; kept in its own group so it can be reported once instead of lexed as `/` `*`. */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  group: 'errors',
});
/**
 * `// ...` up to the end of the line (LF, CRLF or a lone CR, as LineMap counts lines); kept in a group (not
 * skipped) so a syntax error right after one can hint that `//` is not division.
 */
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: 'comments' });
/** `# ...` up to the end of the line. */
export const HashComment = createToken({ name: 'HashComment', pattern: /#[^\n\r]*/, group: Lexer.SKIPPED });

const keywords = [
  KwNetwork,
  KwExtends,
  KwInput,
  KwBlock,
  KwModule,
  KwShortcut,
  KwWhen,
  KwMerge,
  KwAdd,
  KwIf,
  KwTrue,
  KwFalse,
  KwAnd,
  KwOr,
  KwNot,
  KwDiv,
  KwTraining,
];

const operators = [EqEq, NotEq, LtEq, GtEq, Lt, Gt, Equals, Plus, Minus, Star];
const punctuation = [Percent, LParen, RParen, LBracket, RBracket, LCurly, RCurly, Comma, Colon, Semicolon];
const words = [
  StringLiteral,
  BadString,
  FloatLiteral,
  IntLiteral,
  QualifiedName,
  ...keywords,
  Identifier,
  DollarIdentifier,
];

/** Lexer order matters: comments before `/`, strings before their loose variant, keywords before Identifier. */
const dslTokens: TokenType[] = [
  WhiteSpace,
  BlockComment,
  UnterminatedComment,
  LineComment,
  HashComment,
  ...words,
  ...operators,
  Slash,
  ...punctuation,
];
const expressionTokens: TokenType[] = [WhiteSpace, ...words, ...operators, FloorDiv, Slash, ...punctuation];

/** Every token type the parser can see (BadString never reaches it: it is rewritten as a StringLiteral). */
export const parserTokens: TokenType[] = [
  AnyName,
  ...words.filter((t) => t !== BadString),
  ...operators,
  FloorDiv,
  Slash,
  ...punctuation,
];

// Line/column come from LineMap (which knows the file), so the lexer tracks offsets only.
const lexerConfig = { positionTracking: 'onlyOffset', ensureOptimizations: false } as const;

/** The lexer for whole `.net` files. */
export const dslLexer = new Lexer(dslTokens, lexerConfig);
/** The lexer for one expression (e.g. a YAML value such as `$out // 2`). */
export const expressionLexer = new Lexer(expressionTokens, lexerConfig);
