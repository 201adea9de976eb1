/**
 * Small live pictures of the nodes' screens (GET /api/v1/nodes/:name/screenshot.png?width=), fetched
 * only for rows on screen and only for QEMU nodes that are on, every REFRESH_MS.
 */
import type { NodeView } from './api';

const REFRESH_MS = 5_000;
const WIDTH = 192;

export class Thumbnails {
  private readonly visible = new Set<HTMLImageElement>();
  private readonly nodes = new WeakMap<HTMLImageElement, NodeView>();
  private readonly observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const image = entry.target as HTMLImageElement;
      if (entry.isIntersecting) {
        this.visible.add(image);
        this.load(image);
      } else this.visible.delete(image);
    }
  });
  private readonly timer = setInterval(() => {
    for (const image of this.visible) this.load(image);
  }, REFRESH_MS);

  observe(image: HTMLImageElement, node: NodeView): void {
    this.nodes.set(image, node);
    image.addEventListener('error', () => image.classList.add('none'));
    image.addEventListener('load', () => image.classList.remove('none'));
    this.observer.observe(image);
  }

  update(image: HTMLImageElement, node: NodeView): void {
    const before = this.nodes.get(image);
    this.nodes.set(image, node);
    if (before !== undefined && before.powerState !== node.powerState && this.visible.has(image)) this.load(image);
  }

  forget(image: HTMLImageElement): void {
    this.observer.unobserve(image);
    this.visible.delete(image);
  }

  stop(): void {
    clearInterval(this.timer);
    this.observer.disconnect();
  }

  private load(image: HTMLImageElement): void {
    const node = this.nodes.get(image);
    if (node === undefined) return;
    const live = node.machine === 'qemu' && node.powerState === 'on' && node.state === 'running';
    image.classList.toggle('off', !live);
    if (!live) {
      image.removeAttribute('src');
      return;
    }
    image.src = `/api/v1/nodes/${encodeURIComponent(node.name)}/screenshot.png?width=${WIDTH}&t=${Date.now()}`;
  }
}
