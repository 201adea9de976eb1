/**
 * A sweep of a farm with the project's own client: every BMC gets a full RMCP+ session as the
 * orchestrator opens one (Open Session, RAKP 1 and 3, Set Session Privilege Level to Administrator),
 * one command (Get System GUID, which also tells the BMCs apart) and Close Session, `concurrency`
 * at a time. Failures are collected per BMC, never thrown, so a sweep always reports how many answered.
 */
import { IpmiClient } from '../src/client/ipmi-client';
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

export async function sweep(targets: readonly SweepTarget[], o: { user: string; password: string; concurrency: number; timeoutMs?: number; retries?: number }): Promise<SweepResult> {
  const started = Date.now();
  const failures: SweepResult['failures'] = [];
  const guids: string[] = new Array<string>(targets.length).fill('');
  let next = 0;
  let answered = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      let client: IpmiClient | undefined;
      try {
        client = await IpmiClient.connect({ host: t.address, port: t.port, user: o.user, password: o.password, timeoutMs: o.timeoutMs ?? 2_000, retries: o.retries ?? 3 });
        guids[i] = (await client.requestOk(NetFn.App, AppCmd.GetSystemGuid)).toString('hex');
        answered++;
      } catch (err) {
        failures.push({ target: t, error: err instanceof Error ? err.message : String(err) });
      } finally {
        await client?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, targets.length) }, worker));
  return { attempted: targets.length, answered, failures, guids, ms: Date.now() - started };
}
