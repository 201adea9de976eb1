/**
 * The web UI's files, built by `npm run build:web` (esbuild) into dist/web: index.html (a template
 * with the CSP nonce to fill in), app.js, app.css and what they load. Read once at start into memory;
 * only the names listed there are ever served (no path from a request reaches the file system).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface WebAsset {
  readonly type: string;
  readonly body: Buffer;
}

export interface WebAssets {
  readonly directory: string;
  /** index.html with `__CSP_NONCE__` where the nonce goes. */
  readonly indexTemplate: string;
  /** By file name (served under /ui/). */
  readonly files: ReadonlyMap<string, WebAsset>;
}

/** Where the bundle is: dist/web beside the compiled orchestrator (dist/src/web-ui → dist/web), or from the sources. */
export function webAssetsDirectory(): string | null {
  const candidates = [join(__dirname, '..', '..', 'web'), join(__dirname, '..', '..', 'dist', 'web')];
  return candidates.find((candidate) => existsSync(join(candidate, 'index.html'))) ?? null;
}

export function loadWebAssets(directory: string): WebAssets {
  const files = new Map<string, WebAsset>();
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    const type = TYPES[extname(name)];
    if (type === undefined || name === 'index.html' || !statSync(path).isFile()) continue;
    files.set(name, { type, body: readFileSync(path) });
  }
  return { directory, indexTemplate: readFileSync(join(directory, 'index.html'), 'utf8'), files };
}
