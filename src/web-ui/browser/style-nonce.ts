/**
 * The page's Content-Security-Policy allows <style> elements only with this response's nonce
 * (src/web-ui/content-security-policy.ts). xterm.js writes its theme and cell sizes into <style>
 * elements it creates at run time: every <style> this document creates gets the nonce, read from the
 * stylesheet link the server stamped (browsers hide the attribute, not the `nonce` property).
 */
export function stampStyleNonces(): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="stylesheet"]');
  const nonce = link?.nonce ?? '';
  if (nonce === '') return;
  const original = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(this: Document, tagName: string, options?: ElementCreationOptions): HTMLElement {
    const element = original.call(this, tagName, options);
    if (tagName.toLowerCase() === 'style') (element as HTMLStyleElement).nonce = nonce;
    return element;
  } as typeof original;
}
