/**
 * The web UI's Content-Security-Policy (CSP Level 3) and the other headers its pages carry (pure).
 * Scripts only from this origin (no inline script, no eval), no remote origin for anything, no
 * framing. Styles: the bundled stylesheet, plus the <style> elements the terminal creates at run time
 * (xterm.js writes its theme and cell sizes into them), which carry this response's nonce: the page's
 * script stamps it on every <style> it makes (web-ui/browser/style-nonce.ts).
 */
import { randomBytes } from 'node:crypto';

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // 'self' covers ws: and wss: of this origin (CSP Level 3, section 6.7.2.8).
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers of every page and asset of the web UI. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(nonce),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
