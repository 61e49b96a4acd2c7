/**
 * A language client for tests: vscode-jsonrpc over a pair of streams, to netspec's server in this process
 * (PassThrough streams) or to a spawned `netspec lsp --stdio`. It records every publishDiagnostics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { fileHost } from '../../src/cli/io.js';
import { serveLanguage } from '../../src/lsp/server.js';

/** The protocol's position (0-based line and UTF-16 character). */
export interface Position {
  readonly line: number;
  readonly character: number;
}

/** The protocol's range. */
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

/** One published diagnostic, as far as the tests read it. */
export interface PublishedDiagnostic {
  readonly range: Range;
  readonly severity: number;
  readonly code: string;
  readonly message: string;
  readonly relatedInformation?: { location: { uri: string; range: Range }; message: string }[];
}

/** A test client: requests, notifications and the diagnostics published per URI. */
export class TestClient {
  private readonly published = new Map<string, PublishedDiagnostic[][]>();
  private readonly waiters: (() => void)[] = [];
  private version = 1;

  constructor(
    readonly connection: MessageConnection,
    readonly exited: Promise<number>,
  ) {
    connection.onNotification(
      'textDocument/publishDiagnostics',
      (p: { uri: string; diagnostics: PublishedDiagnostic[] }) => {
        const list = this.published.get(p.uri) ?? [];
        list.push(p.diagnostics);
        this.published.set(p.uri, list);
        for (const w of this.waiters.splice(0)) w();
      },
    );
    connection.listen();
  }

  /** Sends `initialize` and `initialized`; returns the server's capabilities. */
  async initialize(): Promise<Record<string, unknown>> {
    const answer = this.connection.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', {
      processId: null,
      rootUri: pathToFileURL(process.cwd()).href,
      capabilities: {},
    });
    // A server that exits first (an unknown command, a crash at start) fails the test now, not at its timeout.
    const died = this.exited.then((code) => {
      throw new Error(`the language server exited with code ${code} before answering initialize`);
    });
    const result = await Promise.race([answer, died]);
    await this.connection.sendNotification('initialized', {});
    return result.capabilities;
  }

  /** Opens `file` with `text` (its disk text when not given); returns its URI. */
  async open(file: string, text?: string): Promise<string> {
    const uri = pathToFileURL(path.resolve(file)).href;
    const languageId = file.endsWith('.net') ? 'netspec' : 'yaml';
    await this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId, version: this.version++, text: text ?? fs.readFileSync(file, 'utf8') },
    });
    return uri;
  }

  /** Replaces the whole text of `uri`. */
  async change(uri: string, text: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: this.version++ },
      contentChanges: [{ text }],
    });
  }

  /** Closes `uri`. */
  async close(uri: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** How many times diagnostics were published for `uri`. */
  publishedCount(uri: string): number {
    return this.published.get(uri)?.length ?? 0;
  }

  /** The next diagnostics published for `uri` after `after` earlier publications (waits up to 10 s). */
  async diagnostics(uri: string, after = 0): Promise<PublishedDiagnostic[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = this.published.get(uri) ?? [];
      const next = list[after];
      if (next) return next;
      if (Date.now() > deadline) throw new Error(`no diagnostics published for ${uri}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Sends a request at `position` of `uri`. */
  at<T>(method: string, uri: string, position: Position): Promise<T> {
    return this.connection.sendRequest<T>(method, { textDocument: { uri }, position });
  }

  /** `shutdown` then `exit`; resolves with the server's exit code. */
  async stop(): Promise<number> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }
}

/** A client connected to a server in this process. */
export function inProcessClient(debounceMs = 20): TestClient {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const exited = serveLanguage({ input: toServer, output: toClient, disk: fileHost, debounceMs });
  const connection = createMessageConnection(
    new StreamMessageReader(toClient),
    new StreamMessageWriter(toServer),
  );
  return new TestClient(connection, exited);
}

/** A client connected to a spawned `netspec lsp --stdio` (from source, through tsx). */
export function spawnedClient(): { client: TestClient; child: ChildProcess } {
  const child = spawn(
    path.resolve('node_modules/.bin/tsx'),
    [path.resolve('test/cli/netspec-main.ts'), 'lsp', '--stdio'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  if (!child.stdout || !child.stdin) throw new Error('no pipes to the language server');
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  return { client: new TestClient(connection, exited), child };
}

/** The position of the `n`-th (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, n = 0): Position {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' not found`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: before.length - 1, character: before[before.length - 1]?.length ?? 0 };
}
