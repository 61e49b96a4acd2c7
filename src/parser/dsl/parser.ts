/**
 * The grammar, as a chevrotain CstParser. It only recognizes text and builds a CST; cst-to-ast.ts gives it meaning.
 * One instance is built at import time (grammar analysis is the expensive part) and reused for every parse.
 */
import { CstParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import {
  AnyName,
  Colon,
  Comma,
  DollarIdentifier,
  Equals,
  EqEq,
  FloatLiteral,
  FloorDiv,
  Gt,
  GtEq,
  Identifier,
  IntLiteral,
  KwAdd,
  KwAnd,
  KwBlock,
  KwDiv,
  KwExtends,
  KwFalse,
  KwIf,
  KwInput,
  KwMerge,
  KwModule,
  KwNetwork,
  KwNot,
  KwOr,
  KwShortcut,
  KwTraining,
  KwTrue,
  KwWhen,
  LBracket,
  LCurly,
  LParen,
  Lt,
  LtEq,
  Minus,
  NotEq,
  parserTokens,
  Percent,
  QualifiedName,
  Plus,
  RBracket,
  RCurly,
  RParen,
  Semicolon,
  Slash,
  Star,
  StringLiteral,
} from './tokens.js';

/** How a token reads in a message: `'{'`, `'kernel'`, or `end of input`. */
export function describeToken(token: IToken | undefined): string {
  if (token === undefined || token.tokenType === EOF) return 'end of input';
  const image = token.image.length > 24 ? `${token.image.slice(0, 21)}...` : token.image;
  return `'${image}'`;
}

function label(type: TokenType): string {
  if (type === EOF) return 'end of input';
  return type.LABEL ?? type.name;
}

function oneOf(items: readonly string[]): string {
  const unique = [...new Set(items)];
  if (unique.length <= 1) return unique[0] ?? 'something else';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1] ?? ''}`;
}

const RULES_EXPECTING_EXPRESSION = new Set([
  'expression',
  'andExpression',
  'notExpression',
  'unary',
  'primary',
]);

/**
 * What to call the expected thing when a closing token is missing. A bare "expected '}'" would hide what else
 * could have come there, which is usually what the user meant to write.
 */
function expectedCloser(
  ruleName: string,
  expected: TokenType,
  previous: IToken | undefined,
): string | undefined {
  const afterOpen =
    previous?.tokenType === LParen || previous?.tokenType === LBracket || previous?.tokenType === Comma;
  if (expected === RCurly) {
    if (ruleName === 'network') return "'input', 'block', 'module', 'training' or '}'";
    if (ruleName === 'trainingSection' || ruleName === 'trainingItem') return "a setting or '}'";
    if (ruleName === 'block') return "a layer, 'shortcut', 'merge' or '}'";
    if (ruleName === 'module' || ruleName === 'shortcut' || ruleName === 'branch') return "a layer or '}'";
    if (ruleName === 'branches') return "a branch or '}'";
  }
  if (expected === RParen) {
    if (ruleName === 'call') return afterOpen ? "an argument or ')'" : "',' or ')'";
    if (ruleName === 'paramList') return afterOpen ? "a parameter or ')'" : "',' or ')'";
  }
  if (expected === RBracket && (ruleName === 'inputDecl' || ruleName === 'list')) {
    return afterOpen ? "an expression or ']'" : "',' or ']'";
  }
  return undefined;
}

/** Short, one-line messages instead of chevrotain's dump of every alternative path. */
export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const what = expectedCloser(ruleName, expected, previous) ?? label(expected);
    return `expected ${what} but found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `expected end of input but found ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    let what: string;
    if (RULES_EXPECTING_EXPRESSION.has(ruleName)) what = 'an expression';
    else if (ruleName === 'name') what = 'a name';
    else
      what = oneOf(
        expectedPathsPerAlt.flatMap((paths) => paths.map((p) => (p[0] ? label(p[0]) : 'end of input'))),
      );
    return `expected ${what} but found ${describeToken(actual[0])}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    const what = oneOf(expectedIterationPaths.map((p) => (p[0] ? label(p[0]) : 'end of input')));
    return `expected ${what} but found ${describeToken(actual[0])}`;
  },
};

/** The DSL grammar; `file` parses a whole spec, `expression` a single expression. */
export class DslParser extends CstParser {
  constructor() {
    super(parserTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider });
    this.performSelfAnalysis();
  }

  /** file := network EOF */
  public readonly file = this.RULE('file', () => {
    this.SUBRULE(this.network);
  });

  /** network := 'network' name ('extends' STRING)? paramList? ('{' (input | block | module | training | ';')* '}')? */
  public readonly network = this.RULE('network', () => {
    this.CONSUME(KwNetwork);
    this.SUBRULE(this.name);
    this.OPTION(() => {
      this.CONSUME(KwExtends);
      this.CONSUME(StringLiteral, { LABEL: 'extendsPath' });
    });
    this.OPTION2(() => this.SUBRULE(this.paramList));
    this.OPTION3(() => {
      this.CONSUME(LCurly);
      this.MANY(() => {
        this.OR([
          { ALT: () => this.SUBRULE(this.inputDecl) },
          { ALT: () => this.SUBRULE(this.block) },
          { ALT: () => this.SUBRULE(this.module) },
          { ALT: () => this.SUBRULE(this.trainingSection) },
          { ALT: () => this.CONSUME(Semicolon) },
        ]);
      });
      this.CONSUME(RCurly);
    });
  });

  /**
   * training := 'training' '{' (trainingItem | ';')* '}' — the training settings. Values are read as expressions
   * and narrowed to literals when building the AST, which can then say what was wrong with `lr = base * 2`.
   */
  public readonly trainingSection = this.RULE('trainingSection', () => {
    this.CONSUME(KwTraining);
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.trainingItem) }, { ALT: () => this.CONSUME(Semicolon) }]);
    });
    this.CONSUME(RCurly);
  });

  /** trainingItem := IDENT ('=' expr | '{' (IDENT '=' expr | ';')* '}') — a setting, or a group of settings. */
  public readonly trainingItem = this.RULE('trainingItem', () => {
    this.CONSUME(Identifier, { LABEL: 'key' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Equals);
          this.SUBRULE(this.expression, { LABEL: 'value' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(LCurly);
          this.MANY(() => {
            this.OR2([
              { ALT: () => this.SUBRULE(this.trainingSetting) },
              { ALT: () => this.CONSUME(Semicolon) },
            ]);
          });
          this.CONSUME(RCurly);
        },
      },
    ]);
  });

  /** trainingSetting := IDENT '=' expr — a setting inside a group. */
  public readonly trainingSetting = this.RULE('trainingSetting', () => {
    this.CONSUME(Identifier, { LABEL: 'key' });
    this.CONSUME(Equals);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  /** name := IDENT | STRING (strings allow names like "resnet18-plain") */
  public readonly name = this.RULE('name', () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(StringLiteral) }]);
  });

  /** paramList := '(' (param (',' param)* ','?)? ')' */
  public readonly paramList = this.RULE('paramList', () => {
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.SUBRULE(this.param);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.param);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RParen);
  });

  /** param := IDENT (':' TYPE)? ('=' expr)? — TYPE is read as a name and checked when building the AST. */
  public readonly param = this.RULE('param', () => {
    this.CONSUME(Identifier, { LABEL: 'paramName' });
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.CONSUME2(Identifier, { LABEL: 'type' });
    });
    this.OPTION2(() => {
      this.CONSUME(Equals);
      this.SUBRULE(this.expression, { LABEL: 'default' });
    });
  });

  /** input := 'input' '[' (expr (',' expr)* ','?)? ']' — not named `input`: chevrotain's token setter is. */
  public readonly inputDecl = this.RULE('inputDecl', () => {
    this.CONSUME(KwInput);
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });

  /** block := 'block' name paramList? '{' blockItem* '}' */
  public readonly block = this.RULE('block', () => {
    this.CONSUME(KwBlock);
    this.SUBRULE(this.name);
    this.OPTION(() => this.SUBRULE(this.paramList));
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.blockItem));
    this.CONSUME(RCurly);
  });

  /** blockItem := call | shortcut | merge | ';' — a rule of its own so the CST keeps their order. */
  public readonly blockItem = this.RULE('blockItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.shortcut) },
      { ALT: () => this.SUBRULE(this.merge) },
      { ALT: () => this.CONSUME(Semicolon) },
    ]);
  });

  /** shortcut := 'shortcut' ('when' IDENT)? '{' call* '}' */
  public readonly shortcut = this.RULE('shortcut', () => {
    this.CONSUME(KwShortcut);
    this.OPTION(() => {
      this.CONSUME(KwWhen);
      this.CONSUME(Identifier, { LABEL: 'when' });
    });
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.call) }, { ALT: () => this.CONSUME(Semicolon) }]);
    });
    this.CONSUME(RCurly);
  });

  /** merge := 'merge' 'add' ('if' expr)? */
  public readonly merge = this.RULE('merge', () => {
    this.CONSUME(KwMerge);
    this.CONSUME(KwAdd);
    this.OPTION(() => {
      this.CONSUME(KwIf);
      this.SUBRULE(this.expression, { LABEL: 'condition' });
    });
  });

  /** module := 'module' name '{' call* '}' */
  public readonly module = this.RULE('module', () => {
    this.CONSUME(KwModule);
    this.SUBRULE(this.name);
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.call) }, { ALT: () => this.CONSUME(Semicolon) }]);
    });
    this.CONSUME(RCurly);
  });

  /**
   * call := (NAME '=')? CALLEE ( '(' (arg (',' arg)* ','?)? ')' ('*' expr)? ('if' expr)? branches?
   *                            | ('if' expr)? branches )
   * NAME may be a keyword (`shortcut = ...`); CALLEE is a name, `$name` (a layer chosen by a parameter) or `add`.
   * With branches it is a merge (`concat(dim = 1) { a { ... } b { } }`, `add if residual { ... }`).
   */
  public readonly call = this.RULE('call', () => {
    this.OPTION(() => {
      this.CONSUME(AnyName, { LABEL: 'layerName' });
      this.CONSUME(Equals);
    });
    this.OR([
      { ALT: () => this.CONSUME(Identifier, { LABEL: 'callee' }) },
      { ALT: () => this.CONSUME(DollarIdentifier, { LABEL: 'callee' }) },
      { ALT: () => this.CONSUME(KwAdd, { LABEL: 'callee' }) },
    ]);
    this.OR2([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.OPTION2(() => {
            this.SUBRULE(this.arg);
            this.MANY(() => {
              this.CONSUME(Comma);
              this.SUBRULE2(this.arg);
            });
            this.OPTION3(() => this.CONSUME2(Comma));
          });
          this.CONSUME(RParen);
          this.OPTION4(() => {
            this.CONSUME(Star);
            this.SUBRULE(this.expression, { LABEL: 'repeat' });
          });
          this.OPTION5(() => {
            this.CONSUME(KwIf);
            this.SUBRULE2(this.expression, { LABEL: 'condition' });
          });
          this.OPTION6(() => this.SUBRULE(this.branches));
        },
      },
      {
        ALT: () => {
          this.OPTION7(() => {
            this.CONSUME2(KwIf);
            this.SUBRULE3(this.expression, { LABEL: 'condition' });
          });
          this.SUBRULE2(this.branches);
        },
      },
    ]);
  });

  /** branches := '{' (branch | ';')* '}' — the branches of a merge. */
  public readonly branches = this.RULE('branches', () => {
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.branch) }, { ALT: () => this.CONSUME(Semicolon) }]);
    });
    this.CONSUME(RCurly);
  });

  /** branch := NAME '{' (call | ';')* '}' — NAME may be a keyword (`input { }`). */
  public readonly branch = this.RULE('branch', () => {
    this.CONSUME(AnyName, { LABEL: 'branchName' });
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.call) }, { ALT: () => this.CONSUME(Semicolon) }]);
    });
    this.CONSUME(RCurly);
  });

  /** arg := (IDENT '=')? expr */
  public readonly arg = this.RULE('arg', () => {
    this.OPTION(() => {
      this.CONSUME(Identifier, { LABEL: 'argName' });
      this.CONSUME(Equals);
    });
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  /** expression := and ('or' and)* — the entry rule for standalone expressions too. */
  public readonly expression = this.RULE('expression', () => {
    this.SUBRULE(this.andExpression, { LABEL: 'operand' });
    this.MANY(() => {
      this.CONSUME(KwOr, { LABEL: 'op' });
      this.SUBRULE2(this.andExpression, { LABEL: 'operand' });
    });
  });

  /** and := not ('and' not)* */
  public readonly andExpression = this.RULE('andExpression', () => {
    this.SUBRULE(this.notExpression, { LABEL: 'operand' });
    this.MANY(() => {
      this.CONSUME(KwAnd, { LABEL: 'op' });
      this.SUBRULE2(this.notExpression, { LABEL: 'operand' });
    });
  });

  /** not := 'not' not | comparison */
  public readonly notExpression = this.RULE('notExpression', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(KwNot, { LABEL: 'op' });
          this.SUBRULE(this.notExpression, { LABEL: 'operand' });
        },
      },
      { ALT: () => this.SUBRULE(this.comparison, { LABEL: 'operand' }) },
    ]);
  });

  /** comparison := additive (cmp additive)? — not chained: `a < b < c` is an error, not a surprise. */
  public readonly comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive, { LABEL: 'operand' });
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(EqEq, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(NotEq, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(LtEq, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(GtEq, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(Lt, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(Gt, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.additive, { LABEL: 'operand' });
    });
  });

  /** additive := multiplicative (('+' | '-') multiplicative)* */
  public readonly additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Plus, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(Minus, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.multiplicative, { LABEL: 'operand' });
    });
  });

  /** multiplicative := unary (('*' | '/' | '//' | 'div' | '%') unary)* */
  public readonly multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Star, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(Slash, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(FloorDiv, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(KwDiv, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(Percent, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.unary, { LABEL: 'operand' });
    });
  });

  /** unary := '-' unary | primary */
  public readonly unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Minus, { LABEL: 'op' });
          this.SUBRULE(this.unary, { LABEL: 'operand' });
        },
      },
      { ALT: () => this.SUBRULE(this.primary, { LABEL: 'operand' }) },
    ]);
  });

  /** primary := INT | FLOAT | true | false | STRING | IDENT | $IDENT | IDENT.IDENT | '(' expr ')' | list */
  public readonly primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(IntLiteral) },
      { ALT: () => this.CONSUME(FloatLiteral) },
      { ALT: () => this.CONSUME(KwTrue) },
      { ALT: () => this.CONSUME(KwFalse) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(DollarIdentifier) },
      { ALT: () => this.CONSUME(QualifiedName) },
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.SUBRULE(this.expression, { LABEL: 'inner' });
          this.CONSUME(RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  /** list := '[' (expr (',' expr)* ','?)? ']' */
  public readonly list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression, { LABEL: 'item' });
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression, { LABEL: 'item' });
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });
}

/** The one parser instance; set `.input` and call an entry rule (`file` or `expression`). */
export const dslParser = new DslParser();
