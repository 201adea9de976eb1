/**
 * Serves the web UI from the orchestrator itself: the pages `/`, `/login` and `/nodes/<name>` (one
 * HTML shell, the script draws the page its path names) and the bundle under `/ui/`. Each page gets
 * a fresh CSP nonce (content-security-policy.ts). Pages and assets are public: they hold no data;
 * everything they show comes from the API, which asks for the token or the session cookie.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from '@nestjs/common';
import { newNonce, pageHeaders } from './content-security-policy';
import { loadWebAssets, webAssetsDirectory, type WebAssets } from './web-assets';

interface UiRequest {
  readonly method: string;
  readonly path: string;
}
interface UiResponse {
  status(code: number): UiResponse;
  set(headers: Record<string, string>): UiResponse;
  send(body: string | Buffer): unknown;
}
type Next = () => void;

/** Paths that show a page of the UI. */
const PAGE = /^\/(?:login|nodes\/[^/]+)?$/;
const ASSET = /^\/ui\/([A-Za-z0-9._-]+)$/;

export function installWebUi(app: NestExpressApplication, assets: WebAssets | null = loadDefault()): void {
  app.use((request: UiRequest, response: UiResponse, next: Next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    const nonce = newNonce();
    if (PAGE.test(request.path)) {
      response.set({ ...pageHeaders(nonce), 'Cache-Control': 'no-store' });
      if (assets === null) {
        response.status(503).set({ 'Content-Type': 'text/plain; charset=utf-8' }).send('The web UI is not built: run `npm run build` (or `npm run build:web`).\n');
        return;
      }
      response.status(200).set({ 'Content-Type': 'text/html; charset=utf-8' }).send(assets.indexTemplate.replaceAll('__CSP_NONCE__', nonce));
      return;
    }
    const asset = ASSET.exec(request.path);
    if (asset === null) return next();
    const file = assets?.files.get(asset[1] as string);
    if (file === undefined) return next();
    response.status(200).set({ ...pageHeaders(nonce), 'Content-Type': file.type, 'Cache-Control': 'no-cache' }).send(file.body);
  });
}

function loadDefault(): WebAssets | null {
  const directory = webAssetsDirectory();
  if (directory === null) {
    new Logger('WebUi').warn('web UI bundle not found (dist/web): `npm run build:web` builds it; the API works without it');
    return null;
  }
  return loadWebAssets(directory);
}
