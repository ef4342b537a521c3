import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Kusto language service (in its worker) reads Node's `global`; without this define the worker dies
// with "global is not defined" in the browser while the build itself succeeds.
export default defineConfig({
  plugins: [react()],
  define: { global: 'globalThis' },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/v1': 'http://127.0.0.1:8080', '/hooks': 'http://127.0.0.1:8080' },
  },
});
