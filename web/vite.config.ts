import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The dashboard build. The project runs `vite build web` from the repository root; `root` is
 * pinned to this folder so the output lands in web/dist whichever directory Vite starts in.
 * `vite web` (dev) proxies the API to a server started with `rapport serve --port 4100`.
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env['RAPPORT_DEV_API'] ?? 'http://127.0.0.1:4100';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // echarts (bar chart, grid, legend, tooltip, SVG renderer) is ~500 kB minified, ~175 kB
    // gzipped, and loads lazily on the pages that draw charts.
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        // Charts change less often than the app: a separate chunk stays cached across releases.
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'charts';
          if (id.includes('node_modules/react') || id.includes('node_modules/scheduler')) return 'react';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: { '/api': api, '/auth': api, '/v1': api, '/healthz': api },
  },
});
