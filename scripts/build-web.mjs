// Bundles the web UI (src/web-ui/browser) into dist/web with esbuild: app.js (ES module: noVNC uses
// top-level await), app.css (the page's and xterm.js's styles) and index.html. No code is loaded
// from anywhere else at run time (the Content-Security-Policy allows only this origin).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'web-ui', 'browser');
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(source, 'main.ts') },
  bundle: true,
  format: 'esm',
  // The node page (noVNC, xterm.js) is a chunk of its own, loaded by the fleet page's script on demand.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['chrome120', 'firefox115'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  outdir: out,
});
for (const file of ['index.html', 'icon.svg']) copyFileSync(join(source, file), join(out, file));
