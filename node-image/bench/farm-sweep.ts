/**
 * A sweep of a farm with the project's own client: every BMC gets a full RMCP+ session as the
 * orchestrator opens one (Open Session, RAKP 1 and 3, Set Session Privilege Level to Administrator),
 * one command (Get System GUID, which also tells the BMCs apart) and Close Session, `concurrency`
 * at a time, all on one UDP socket (UdpHub) as a poller of many BMCs would. Failures are collected per
 * BMC, never thrown, so a sweep always reports how many answered.
 *
 * The sessions in flight are spread over the whole address range (sweepOrder), not on neighbours:
 * a farm's worker processes each host consecutive BMCs, and a sweep in address order would keep
 * only one of them busy at a time.
 */
import { IpmiClient } from '../src/client/ipmi-client';
import { UdpHub } from '../src/client/udp-link';
import { AppCmd, NetFn } from '../src/protocol/netfn';

export interface SweepTarget {
  readonly address: string;
  readonly port: number;
}

export interface SweepResult {
  readonly attempted: number;
  readonly answered: number;
  readonly failures: Array<{ readonly target: SweepTarget; readonly error: string }>;
  /** System GUIDs (hex) by target index, for isolation checks. */
  readonly guids: string[];
  readonly ms: number;
}

/**
 * The order targets are visited in: the range cut into `lanes` consecutive parts, taken one from
 * each part in turn (0, c, 2c, …, 1, c+1, …), so `lanes` sessions at a time are far apart.
 */
export function sweepOrder(count: number, lanes: number): number[] {
  const l = Math.max(1, Math.min(lanes, count));
  const part = Math.ceil(count / l);
  const order: number[] = [];
  for (let j = 0; j < part; j++) for (let k = 0; k < l; k++) { const i = k * part + j; if (i < count) order.push(i); }
  return order;
}

export async function sweep(targets: readonly SweepTarget[], o: { user: string; password: string; concurrency: number; timeoutMs?: number; retries?: number }): Promise<SweepResult> {
  const started = Date.now();
  const failures: SweepResult['failures'] = [];
  const guids: string[] = new Array<string>(targets.length).fill('');
  const order = sweepOrder(targets.length, o.concurrency);
  let next = 0;
  let answered = 0;
  const hub = await UdpHub.open();
  const worker = async (): Promise<void> => {
    while (next < order.length) {
      const i = order[next++]!;
      const t = targets[i]!;
      let client: IpmiClient | undefined;
      try {
        client = await IpmiClient.connect({ hub, host: t.address, port: t.port, user: o.user, password: o.password, timeoutMs: o.timeoutMs ?? 2_000, retries: o.retries ?? 3 });
        guids[i] = (await client.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toString('hex');
        answered++;
      } catch (err) {
        failures.push({ target: t, error: err instanceof Error ? err.message : String(err) });
      } finally {
        await client?.close();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, targets.length) }, worker));
  } finally {
    await hub.close();
  }
  return { attempted: targets.length, answered, failures, guids, ms: Date.now() - started };
}
