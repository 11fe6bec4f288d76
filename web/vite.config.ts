// Build: npx vite build web --outDir ../dist/web --emptyOutDir   (the server serves dist/web)
// Dev:   npx vite web   (proxies /api to a `darkroom serve` on 127.0.0.1:8080)
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
