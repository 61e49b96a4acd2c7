// The netspec extension: starts `netspec lsp --stdio` (the command in the `netspec.path` setting) through
// vscode-languageclient for .net files and YAML files (the server answers only for YAML with a top-level
// `netspec:` key). Plain CommonJS, no build step: VS Code loads this file as it is.
/* eslint-disable @typescript-eslint/no-require-imports -- VS Code loads an extension without a build as CommonJS */
'use strict';
const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** The command and arguments that start the server, from the settings. */
function serverCommand() {
  const config = vscode.workspace.getConfiguration('netspec');
  const command = config.get('path', 'netspec');
  const args = [...config.get('args', []), 'lsp', '--stdio'];
  // A checkout's bin/netspec.js (or dist/cli/main.js) is a script: run it with node.
  if (/\.(c|m)?js$/.test(command)) return { command: 'node', args: [command, ...args] };
  return { command, args };
}

/** Starts the language client (VS Code calls this on the first .net or YAML file). */
async function activate(context) {
  const { command, args } = serverCommand();
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const executable = {
    command,
    args,
    options: {
      ...(folder ? { cwd: folder } : {}),
      // `netspec.cmd` and `npx.cmd` on Windows are started through the shell.
      shell: process.platform === 'win32',
    },
  };
  const serverOptions = { run: executable, debug: executable };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'netspec' },
      { scheme: 'file', language: 'yaml' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{net,yaml,yml}'),
    },
  };
  client = new LanguageClient('netspec', 'netspec', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('netspec.path') && !e.affectsConfiguration('netspec.args')) return;
      await deactivate();
      await activate(context);
    }),
  );
  try {
    await client.start();
  } catch (e) {
    const shown = [command, ...args].join(' ');
    void vscode.window.showErrorMessage(
      `netspec: could not start the language server with '${shown}' (${e instanceof Error ? e.message : String(e)}). ` +
        `Set 'netspec.path' to the netspec command (e.g. ${path.join('<netspec checkout>', 'bin', 'netspec.js')}).`,
    );
  }
}

/** Stops the language client. */
async function deactivate() {
  const running = client;
  client = undefined;
  if (running) await running.stop();
}

module.exports = { activate, deactivate };
