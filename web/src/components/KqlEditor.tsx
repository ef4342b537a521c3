/**
 * Monaco with Microsoft's Kusto language service (highlighting, completion and diagnostics from the
 * workspace schema). Loaded lazily by the log search page only: Monaco and the Kusto worker are megabytes.
 */
import { useEffect, useRef } from 'react';
import 'monaco-editor/esm/vs/editor/edcore.main.js';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker?worker';
import '@kusto/monaco-kusto/release/esm/monaco.contribution';
import { getKustoWorker } from '@kusto/monaco-kusto/release/esm/monaco.contribution';
import KustoWorker from './kusto.worker?worker';
import type { WorkspaceSchema } from '../lib/schema';
import { toShowSchema } from '../lib/schema';

(self as any).MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'kusto' ? new KustoWorker() : new EditorWorker()),
};

export interface EngineDiagnostic {
  message: string;
  /** 0-based character offset and length in the query, as the engine reports them. */
  offset: number;
  length: number;
}

export default function KqlEditor({
  value,
  onChange,
  onRun,
  schema,
  database,
  diagnostic,
  dark,
}: {
  value: string;
  onChange(v: string): void;
  onRun(v: string): void;
  schema?: WorkspaceSchema;
  database: string;
  diagnostic: EngineDiagnostic | null;
  dark: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };

  useEffect(() => {
    const model = monaco.editor.createModel(value, 'kusto');
    const editor = monaco.editor.create(host.current!, {
      model,
      theme: dark ? 'kusto-dark' : 'kusto-light',
      minimap: { enabled: false },
      automaticLayout: true,
      fontSize: 13,
      scrollBeyondLastLine: false,
      wordWrap: 'on',
      ariaLabel: 'KQL query editor. Press Control or Command plus Enter to run.',
      fixedOverflowWidgets: true,
      suggest: { showWords: false },
    });
    editorRef.current = editor;
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => handlers.current.onRun(editor.getValue()));
    const sub = model.onDidChangeContent(() => {
      monaco.editor.setModelMarkers(model, 'engine', []);
      handlers.current.onChange(model.getValue());
    });
    editor.focus();
    return () => {
      sub.dispose();
      editor.dispose();
      model.dispose();
      editorRef.current = null;
    };
    // Created once; outside value changes are applied by the next effect.
  }, []);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (model && model.getValue() !== value) model.setValue(value);
  }, [value]);

  useEffect(() => {
    if (!schema) return;
    let cancelled = false;
    (async () => {
      const model = editorRef.current?.getModel();
      if (!model) return;
      const accessor = await getKustoWorker();
      if (cancelled || model.isDisposed()) return;
      const worker = await accessor(model.uri);
      if (cancelled || model.isDisposed()) return;
      await worker.setSchemaFromShowSchema(toShowSchema(schema, database), 'https://openitsmc.local', database);
      if (!cancelled && !model.isDisposed()) host.current?.setAttribute('data-schema', 'loaded');
    })().catch((err) => console.error('Kusto language service:', err));
    return () => {
      cancelled = true;
    };
  }, [schema, database]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    if (!diagnostic) {
      host.current?.removeAttribute('data-marker');
      return monaco.editor.setModelMarkers(model, 'engine', []);
    }
    const start = model.getPositionAt(diagnostic.offset);
    host.current?.setAttribute('data-marker', `${start.lineNumber}:${start.column}`);
    const end = model.getPositionAt(diagnostic.offset + Math.max(1, diagnostic.length));
    monaco.editor.setModelMarkers(model, 'engine', [
      {
        severity: monaco.MarkerSeverity.Error,
        message: diagnostic.message,
        startLineNumber: start.lineNumber,
        startColumn: start.column,
        endLineNumber: end.lineNumber,
        endColumn: end.column,
      },
    ]);
    editorRef.current?.revealPositionInCenterIfOutsideViewport(start);
  }, [diagnostic]);

  return <div ref={host} className="editor" data-testid="kql-editor" />;
}
