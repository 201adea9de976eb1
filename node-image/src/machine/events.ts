/** A tiny typed listener registry (no EventEmitter: typed events, unsubscribe by return value). */
export class Listeners<M extends { [K in keyof M]: (...args: never[]) => void }> {
  private readonly map = new Map<keyof M, Set<M[keyof M]>>();

  on<E extends keyof M>(event: E, listener: M[E]): () => void {
    let set = this.map.get(event);
    if (!set) { set = new Set(); this.map.set(event, set); }
    set.add(listener);
    return () => { set!.delete(listener); };
  }

  emit<E extends keyof M>(event: E, ...args: Parameters<M[E]>): void {
    const set = this.map.get(event);
    if (!set) return;
    for (const l of [...set]) (l as (...a: Parameters<M[E]>) => void)(...args);
  }
}
