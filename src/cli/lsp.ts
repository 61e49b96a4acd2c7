/**
 * `netspec lsp [--stdio]`: the language server for `.net` and netspec YAML specs, speaking the Language Server
 * Protocol on stdin/stdout (editors start it so: the VS Code extension in editors/vscode, or any LSP client).
 * The server (vscode-languageserver) is imported only when the command runs.
 */
import { format } from 'node:util';
import type { Command } from 'commander';
import { fileHost, type CliIo } from './io.js';

/** Registers `netspec lsp`. */
export function registerLsp(program: Command, _io: CliIo, setExit: (code: number) => void): void {
  program
    .command('lsp')
    .description(
      'run the language server for .net and netspec YAML specs on stdin/stdout (diagnostics, hover, completion, definition, outline)',
    )
    .option('--stdio', 'talk over stdin and stdout (the default and only transport; clients pass it)')
    .action(async () => {
      // stdout carries the protocol: anything printed there by accident would corrupt it.
      const toStderr = (...args: unknown[]): void => void process.stderr.write(`${format(...args)}\n`);
      console.log = toStderr;
      console.info = toStderr;
      console.warn = toStderr;
      console.debug = toStderr;
      const { serveLanguage } = await import('../lsp/server.js');
      setExit(await serveLanguage({ input: process.stdin, output: process.stdout, disk: fileHost }));
      process.stdin.destroy();
    });
}
