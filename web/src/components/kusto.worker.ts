// Entry point of the Kusto language service worker (its own chunk, loaded only by the log search page).
import '@kusto/monaco-kusto/release/esm/kusto.worker';
