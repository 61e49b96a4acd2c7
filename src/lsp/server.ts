/**
 * The language server: wires the pure features (diagnostics, hover, completion, definition, symbols) to a
 * protocol connection over two streams. Open documents' unsaved text is what every compilation reads first (so
 * an `extends` chain of open files works); diagnostics follow edits after a pause (DEBOUNCE_MS) and are cleared
 * when a document closes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CompletionItemKind,
  createConnection,
  DiagnosticSeverity,
  MarkupKind,
  TextDocuments,
  TextDocumentSyncKind,
  type CompletionItem,
  type Connection,
  type DocumentSymbol,
  type Range,
} from 'vscode-languageserver';
import { createProtocolConnection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { SpecHost } from '../compiler/index.js';
import type { NetworkAst } from '../parser/ast.js';
import { analyze, isNetspecDocument, overlayHost, type Analysis } from './analysis.js';
import { completionsAt, type CompletionKind } from './completion.js';
import { definitionAt } from './definition.js';
import { editorDiagnostics, SpanMapper } from './diagnostics.js';
import { hoverAt } from './hover.js';
import { LineStarts } from './positions.js';
import { outline, type OutlineSymbol } from './symbols.js';

/** How long the server waits after an edit before compiling the document again (milliseconds). */
export const DEBOUNCE_MS = 200;

/** What the server needs: the protocol's two streams and how to read spec files that are not open. */
export interface ServerOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly disk: SpecHost;
  /** Milliseconds between an edit and its diagnostics; DEBOUNCE_MS unless given. */
  readonly debounceMs?: number;
}

const COMPLETION_KINDS: { readonly [K in CompletionKind]: CompletionItemKind } = {
  layer: CompletionItemKind.Function,
  block: CompletionItemKind.Class,
  argument: CompletionItemKind.Property,
  parameter: CompletionItemKind.Variable,
  keyword: CompletionItemKind.Keyword,
  setting: CompletionItemKind.Field,
};

/** The absolute path of a `file:` URI; undefined for other schemes (those documents are not analyzed). */
function fileOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return path.resolve(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

/**
 * Serves the protocol on `options.input`/`output` until the client sends `exit` or closes the input; resolves
 * with the exit code the protocol asks for (0 after `shutdown`, else 1). Never exits the process itself.
 */
export function serveLanguage(options: ServerOptions): Promise<number> {
  let done: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (done = resolve));
  let shutdown = false;
  const watchDog = {
    initialize: (): void => undefined,
    get shutdownReceived() {
      return shutdown;
    },
    set shutdownReceived(value: boolean) {
      shutdown = value;
    },
    exit: (code: number): void => done(code),
  };
  const connection: Connection = createConnection(
    (logger) => createProtocolConnection(options.input, options.output, logger),
    watchDog,
  );
  const stop = (): void => done(shutdown ? 0 : 1);
  options.input.on('end', stop);
  options.input.on('close', stop);
  const documents = new TextDocuments(TextDocument);
  const debounce = options.debounceMs ?? DEBOUNCE_MS;
  const pending = new Map<string, NodeJS.Timeout>();
  const analyses = new Map<string, Analysis>();
  /** The last network of each document that resolved, for completion and definition while it does not. */
  const lastGood = new Map<string, NetworkAst>();
  const openText = (file: string): string | undefined => {
    for (const d of documents.all()) if (fileOf(d.uri) === file) return d.getText();
    return undefined;
  };
  const host = overlayHost(openText, options.disk);

  const analysisOf = (uri: string): Analysis | undefined => {
    const doc = documents.get(uri);
    const file = fileOf(uri);
    if (!doc || !file || !isNetspecDocument(file, doc.getText())) return undefined;
    const cached = analyses.get(uri);
    if (cached && cached.text === doc.getText()) return cached;
    const analysis = analyze(file, doc.getText(), host);
    analyses.set(uri, analysis);
    if (analysis.resolved) lastGood.set(uri, analysis.resolved);
    return analysis;
  };

  const publish = (uri: string): void => {
    pending.delete(uri);
    try {
      publishNow(uri);
    } catch (e) {
      // A bug must not take the editor's server down with it: say so in the client's log and go on.
      connection.console.error(
        `netspec: internal error checking ${uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    }
  };
  const publishNow = (uri: string): void => {
    const analysis = analysisOf(uri);
    const diagnostics = analysis
      ? editorDiagnostics(analysis).map(({ relatedInformation, ...d }) => ({
          ...d,
          severity: d.severity === 1 ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
          ...(relatedInformation ? { relatedInformation: relatedInformation.map((r) => ({ ...r })) } : {}),
        }))
      : [];
    void connection.sendDiagnostics({ uri, diagnostics });
  };
  const schedule = (uri: string, delay: number): void => {
    const timer = pending.get(uri);
    if (timer) clearTimeout(timer);
    pending.set(
      uri,
      setTimeout(() => publish(uri), delay),
    );
  };
  /** A change to one document can change the diagnostics of every open spec that extends it. */
  const scheduleAll = (changed: string, delay: number): void => {
    schedule(changed, delay);
    for (const d of documents.all()) if (d.uri !== changed && analyses.delete(d.uri)) schedule(d.uri, delay);
  };

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['(', ',', ' ', '$', '{', '[', '-', '.'] },
      definitionProvider: true,
      documentSymbolProvider: true,
    },
    serverInfo: { name: 'netspec' },
  }));
  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => scheduleAll(e.document.uri, debounce));
  documents.onDidClose((e) => {
    const timer = pending.get(e.document.uri);
    if (timer) clearTimeout(timer);
    pending.delete(e.document.uri);
    analyses.delete(e.document.uri);
    lastGood.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  const offsetOf = (analysis: Analysis, position: { line: number; character: number }): number =>
    new LineStarts(analysis.text).offset(position);

  connection.onHover((params) => {
    const analysis = analysisOf(params.textDocument.uri);
    if (!analysis) return null;
    const info = hoverAt(analysis, offsetOf(analysis, params.position));
    if (!info) return null;
    return {
      contents: { kind: MarkupKind.Markdown, value: info.markdown },
      range: new LineStarts(analysis.text).range(info.offset, info.endOffset),
    };
  });
  connection.onCompletion((params): CompletionItem[] => {
    const analysis = analysisOf(params.textDocument.uri);
    if (!analysis) return [];
    const lines = new LineStarts(analysis.text);
    const result = completionsAt(
      analysis,
      lines.offset(params.position),
      lastGood.get(params.textDocument.uri),
    );
    const range = lines.range(result.replaceFrom, result.replaceTo);
    return result.entries.map((e, i) => ({
      label: e.label,
      kind: COMPLETION_KINDS[e.kind],
      detail: e.detail,
      ...(e.documentation !== undefined ? { documentation: e.documentation } : {}),
      textEdit: { range, newText: e.insertText },
      sortText: String(i).padStart(4, '0'),
    }));
  });
  connection.onDefinition((params) => {
    const analysis = analysisOf(params.textDocument.uri);
    if (!analysis) return null;
    const span = definitionAt(
      analysis,
      offsetOf(analysis, params.position),
      lastGood.get(params.textDocument.uri),
    );
    if (!span) return null;
    // A parent's text comes from the compilation, or from the host when the document does not compile now.
    const mapper = new SpanMapper(analysis);
    const text = mapper.inDocument(span) ? undefined : host.readFile(span.file);
    const range =
      typeof text === 'string' ? new LineStarts(text).range(span.offset, span.endOffset) : mapper.range(span);
    return { uri: mapper.location(span).uri, range };
  });
  connection.onDocumentSymbol((params): DocumentSymbol[] => {
    const analysis = analysisOf(params.textDocument.uri);
    const ast = analysis?.parsed.ast;
    if (!analysis || !ast) return [];
    const lines = new LineStarts(analysis.text);
    const convert = (s: OutlineSymbol): DocumentSymbol => {
      const start = Math.min(s.span.offset, s.nameSpan.offset);
      const end = Math.max(s.span.endOffset, s.nameSpan.endOffset);
      const range: Range = lines.range(start, end);
      return {
        name: s.name || '(unnamed)',
        detail: s.detail,
        kind: s.kind,
        range,
        selectionRange: lines.range(s.nameSpan.offset, s.nameSpan.endOffset),
        children: s.children.map(convert),
      };
    };
    return outline(ast, analysis.file).map(convert);
  });

  documents.listen(connection);
  connection.listen();
  return finished.then((code) => {
    for (const timer of pending.values()) clearTimeout(timer);
    connection.dispose();
    return code;
  });
}
