/**
 * A farm worker process (farm-workers.ts): hosts the slice of BMCs its parent names, with the
 * documents the parent holds for them, and sends every state change back. Configuration comes from
 * the same environment as the parent's. Stops its BMCs on SIGTERM or when the parent goes away.
 */
import { loadFarmConfig } from './farm-config';
import { batchedStderr, createLogger } from '../util/logger';
import { FarmDocuments } from './farm-state-store';
import { Farm } from './farm';
import { collectStartGarbage, farmTagOf, farmTls } from './farm-runner';
import type { FromWorker, ToWorker } from './farm-workers';

Buffer.poolSize = 0; // as in farm-main.ts

function send(m: FromWorker, sent?: () => void): void {
  if (process.send) process.send(m, undefined, undefined, () => sent?.());
  else sent?.();
}

/**
 * State changes go to the parent together, once per turn of the event loop: a BMC woken for a
 * session writes several documents at once, and a message each would cost a write each.
 */
class StateOutbox {
  private changes: Array<readonly [number, string, string | null]> = [];
  private scheduled = false;

  add(index: number, name: string, value: string | undefined): void {
    this.changes.push([index, name, value ?? null]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is waiting; `sent` runs once the message has been handed to the channel. */
  flush(sent?: () => void): void {
    this.scheduled = false;
    if (this.changes.length === 0) { sent?.(); return; }
    const changes = this.changes;
    this.changes = [];
    send({ type: 'state', changes }, sent);
  }
}

async function run(msg: ToWorker): Promise<void> {
  const config = loadFarmConfig(process.env);
  const log = createLogger({ debug: config.agent.debug, component: 'farm', write: batchedStderr() });
  let loading = true; // what the parent sent needs no echo
  const outbox = new StateOutbox();
  const documents = new FarmDocuments((index, name, value) => { if (!loading) outbox.add(index, name, value); });
  for (const [index, docs] of Object.entries(msg.documents)) {
    for (const [name, value] of Object.entries(docs)) documents.set(Number(index), name, value);
  }
  loading = false;
  const farm = await Farm.start({ config, from: msg.from, to: msg.to, store: (i) => documents.forBmc(i), tls: await farmTls(config), farmTag: farmTagOf(config), ...(msg.lan ? { lan: msg.lan } : {}), log });
  collectStartGarbage();
  send({ type: 'ready', bmcs: farm.bmcs.length });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // The last changes (sessions ended by the stop) reach the parent before the worker exits.
    farm.stop().finally(() => outbox.flush(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => {}); // the parent decides (a Ctrl-C reaches the whole process group)
  process.on('disconnect', stop);
}

process.once('message', (msg: ToWorker) => {
  if (msg.type !== 'start') return;
  run(msg).catch((err: unknown) => {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
