/**
 * `netspec completion bash|zsh`: a shell completion script generated from the commander program itself (its
 * commands, their options and arguments, the choices of options that have them), so it cannot drift from the CLI.
 */
import { Argument, type Command, type Option } from 'commander';
import type { CliIo } from './io.js';

/** The shells a completion script is generated for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
/** One of COMPLETION_SHELLS. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** What the word after an option, or an argument, completes to. */
export type ValueKind =
  | { readonly kind: 'none' }
  | { readonly kind: 'specs' }
  | { readonly kind: 'files' }
  | { readonly kind: 'folders' }
  | { readonly kind: 'words'; readonly words: readonly string[] };

/** One option as completion sees it. */
export interface CompletionOption {
  /** Its flags (`-o`, `--out`). */
  readonly flags: readonly string[];
  readonly description: string;
  /** Absent for a flag without a value. */
  readonly value?: ValueKind;
  readonly repeatable: boolean;
}

/** One command as completion sees it. */
export interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  readonly options: readonly CompletionOption[];
  /** The positional arguments in order; the last one is repeatable when `variadic`. */
  readonly args: readonly ValueKind[];
  readonly variadic: boolean;
}

const NONE: ValueKind = { kind: 'none' };

/**
 * What a value placeholder completes to: `<spec>` spec files, `<dir>` folders, `<file>` and `<source>` files; a
 * number or a name (`<n>`, `<rate>`, `<name=value>`) has no candidates.
 */
function valueKind(name: string, choices: readonly string[] | undefined): ValueKind {
  if (choices?.length) return { kind: 'words', words: choices };
  const base = name.replace(/\.\.\.$/, '');
  if (base === 'spec') return { kind: 'specs' };
  if (base === 'dir') return { kind: 'folders' };
  if (base === 'file' || base === 'source') return { kind: 'files' };
  return NONE;
}

function describeOption(option: Option): CompletionOption {
  const flags = [option.short, option.long].filter((f): f is string => typeof f === 'string');
  const takesValue = option.required || option.optional;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '';
  return {
    flags,
    description: option.description,
    ...(takesValue ? { value: valueKind(placeholder, option.argChoices) } : {}),
    // A variadic option or one with a collecting parser (`--set`, repeatable) may appear again.
    repeatable: option.variadic || Array.isArray(option.defaultValue),
  };
}

const HELP_OPTION: CompletionOption = {
  flags: ['-h', '--help'],
  description: 'display help for command',
  repeatable: false,
};

/** The commands of `program` as data, with commander's `help [command]` (which commander adds by itself). */
export function completionModel(program: Command): readonly CompletionCommand[] {
  const commands: CompletionCommand[] = program.commands.map((command) => ({
    name: command.name(),
    description: command.description(),
    options: [...command.options.map(describeOption), HELP_OPTION],
    args: command.registeredArguments.map((a) => valueKind(a.name(), a.argChoices)),
    variadic: command.registeredArguments.at(-1)?.variadic ?? false,
  }));
  commands.push({
    name: 'help',
    description: 'display help for command',
    options: [],
    args: [{ kind: 'words', words: commands.map((c) => c.name) }],
    variadic: false,
  });
  return commands;
}

/** The program's own options (`--version`, `--help`). */
function programOptions(program: Command): readonly CompletionOption[] {
  return [...program.options.map(describeOption), HELP_OPTION];
}

/** A word quoted for the shell (bash and zsh alike): single quotes, with `'` written as `'\''`. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The bash code that fills COMPREPLY with the candidates of `value` for the word `$cur`. */
function bashCandidates(value: ValueKind): string {
  switch (value.kind) {
    case 'none':
      return 'COMPREPLY=()';
    case 'specs':
      return '_netspec_specs';
    case 'files':
      return '_netspec_files -f';
    case 'folders':
      return '_netspec_files -d';
    case 'words':
      return `COMPREPLY=($(compgen -W ${quote(value.words.join(' '))} -- "$cur"))`;
  }
}

/** The bash functions every script holds: spec and path candidates, and the position among arguments. */
const BASH_HELPERS = `# Spec files (*.yaml, *.yml, *.net, any case) and folders, for spec arguments.
_netspec_specs() {
  local f lower
  COMPREPLY=()
  compopt -o filenames 2>/dev/null
  while IFS= read -r f; do
    lower="\${f,,}"
    if [[ -d "$f" || "$lower" == *.yaml || "$lower" == *.yml || "$lower" == *.net ]]; then
      COMPREPLY+=("$f")
    fi
  done < <(compgen -f -- "$cur")
}

# Files (-f) or folders (-d) for option values that are paths.
_netspec_files() {
  compopt -o filenames 2>/dev/null
  local IFS=$'\\n'
  COMPREPLY=($(compgen "$1" -- "$cur"))
}

# Sets position to the index of the current word among the command's positional arguments; $1 lists the options
# that take a value (the word after one is its value, not an argument).
_netspec_position() {
  local i word skip=0
  position=0
  for ((i = start + 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      --*=*) ;;
      -*) [[ " $1 " == *" $word "* ]] && skip=1 ;;
      *) position=$((position + 1)) ;;
    esac
  done
  return 0
}`;

/** The bash completion script of `program` (`source <(netspec completion bash)`). */
export function bashScript(program: Command, version: string): string {
  const commands = completionModel(program);
  const top = [...commands.map((c) => c.name), ...programOptions(program).flatMap((o) => o.flags)];
  const perCommand = commands.map((c) => {
    const valued = c.options.filter((o) => o.value);
    const valueCases = valued.map(
      (o) => `        ${o.flags.join('|')}) ${bashCandidates(o.value ?? NONE)}; return ;;`,
    );
    const argCases = c.args.map(
      (a, i) => `        ${i === c.args.length - 1 && c.variadic ? '*' : String(i)}) ${bashCandidates(a)} ;;`,
    );
    return [
      `    ${c.name})`,
      `      valued=${quote(valued.flatMap((o) => o.flags).join(' '))}`,
      `      options=${quote(c.options.flatMap((o) => o.flags).join(' '))}`,
      '      case "$prev" in',
      ...valueCases,
      '      esac',
      '      if [[ "$cur" == -* ]]; then',
      '        COMPREPLY=($(compgen -W "$options" -- "$cur"))',
      '        return',
      '      fi',
      '      _netspec_position "$valued"',
      '      case "$position" in',
      ...argCases,
      '        *) COMPREPLY=() ;;',
      '      esac',
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for netspec ${version}, generated by \`netspec completion bash\` from its commands.
# Use: source <(netspec completion bash)   (or save it as ~/.local/share/bash-completion/completions/netspec)

${BASH_HELPERS}
_netspec() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" command="" start=0 i position valued options
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; start=$i; break ;;
    esac
  done
  case "$command" in
    "")
      COMPREPLY=($(compgen -W ${quote(top.join(' '))} -- "$cur"))
      ;;
${perCommand.join('\n')}
    *) COMPREPLY=() ;;
  esac
}

complete -F _netspec netspec
`;
}

/** Text made safe inside a zsh `_arguments` description (`[...]`) or message, within single quotes. */
function zshText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replaceAll('[', '(')
    .replaceAll(']', ')')
    .replaceAll(':', '\\:')
    .replaceAll("'", `'\\''`);
}

/** The zsh `_arguments` action of `value`. */
function zshAction(value: ValueKind): string {
  switch (value.kind) {
    case 'none':
      return ' ';
    case 'specs':
      return '_files -g "*.(#i)(yaml|yml|net)(-.)"';
    case 'files':
      return '_files';
    case 'folders':
      return '_files -/';
    case 'words':
      return `(${value.words.map(zshText).join(' ')})`;
  }
}

/** The `_arguments` specs of one option: `'(-o --out)'{-o,--out}'[output folder]:dir:_files -/'`. */
function zshOption(option: CompletionOption): string {
  const excl = option.repeatable ? '*' : option.flags.length > 1 ? `(${option.flags.join(' ')})` : '';
  const names = option.flags.length > 1 ? `{${option.flags.join(',')}}` : option.flags.join('');
  const value = option.value ? `:value:${zshAction(option.value)}` : '';
  return `${excl ? `'${excl}'` : ''}${names}'[${zshText(option.description)}]${value}'`;
}

/** The zsh completion script of `program` (`source <(netspec completion zsh)`, or saved as `_netspec` on fpath). */
export function zshScript(program: Command, version: string): string {
  const commands = completionModel(program);
  // _describe splits each item at its first unescaped colon: the name's colons are escaped, the description's not.
  const described = commands.map(
    (c) => `    '${zshText(c.name)}:${zshText(c.description).replaceAll('\\:', ':')}'`,
  );
  const perCommand = commands.map((c) => {
    const args = c.args.map((a, i) => {
      const position = i === c.args.length - 1 && c.variadic ? '*' : String(i + 1);
      return `'${position}:argument:${zshAction(a)}'`;
    });
    const specs = [...c.options.map(zshOption), ...args];
    return [`    ${c.name})`, `      _arguments -s ${specs.join(' \\\n        ')}`, '      ;;'].join('\n');
  });
  const top = programOptions(program).map(zshOption);
  return `#compdef netspec
# zsh completion for netspec ${version}, generated by \`netspec completion zsh\` from its commands.
# Use: source <(netspec completion zsh) after compinit, or save it as _netspec in a folder on $fpath.

_netspec() {
  local curcontext="$curcontext" state line
  local -a commands
  commands=(
${described.join('\n')}
  )
  _arguments -C ${top.join(' ')} '1: :->command' '*:: :->args' && return
  case $state in
    command)
      _describe -t commands 'netspec command' commands
      ;;
    args)
      case $words[1] in
${perCommand.map((s) => s.replace(/^/gm, '    ')).join('\n')}
      esac
      ;;
  esac
}

if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _netspec "$@"
else
  compdef _netspec netspec
fi
`;
}

/** Registers `netspec completion <shell>`. */
export function registerCompletion(program: Command, io: CliIo, version: string): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      '\nInstall:\n' +
        '  bash: add `source <(netspec completion bash)` to ~/.bashrc\n' +
        '  zsh:  add `source <(netspec completion zsh)` to ~/.zshrc, after compinit\n' +
        'The script completes commands, their options, the choices of options that have them, and spec files\n' +
        '(*.yaml, *.yml, *.net) for spec arguments.\n',
    )
    .action((shell: CompletionShell) => {
      io.stdout(shell === 'bash' ? bashScript(program, version) : zshScript(program, version));
    });
}
