declare module 'monaco-editor/esm/vs/editor/edcore.main.js';
