/**
 * NodeBmc for nodes of a MemoryNodeRuntime: a BMC answers while its runtime node runs, at the IPMI
 * port the node publishes on its host's address (any address for a host that has none), for the user and password of its environment; power is kept per node.
 * Anything else gets the BmcUnreachableError a silent BMC gives.
 */
import { BmcPowerAction, BmcPowerSession, BmcTarget, BmcUnreachableError, BootOverride, NodeBmc } from '../../bmc/node-bmc';
import type { MemoryNodeRuntime } from './memory-node-runtime';

export class MemoryNodeBmc extends NodeBmc {
  private readonly powerStates = new Map<string, 'on' | 'off'>();
  /** Every call that reached a BMC, in order: "<ref> <what>". */
  readonly calls: string[] = [];
  /** Runs before each answer (a test's way to act while a caller waits for a BMC). */
  beforeAnswer: ((target: BmcTarget) => Promise<void>) | null = null;

  constructor(private readonly runtime: MemoryNodeRuntime) {
    super();
  }

  async powerStatus(target: BmcTarget): Promise<'on' | 'off'> {
    const ref = await this.reach(target, 'power status');
    return this.powerStates.get(ref) ?? 'off';
  }

  async openPowerSession(target: BmcTarget): Promise<BmcPowerSession> {
    const ref = await this.reach(target, 'session');
    return { powerStatus: async () => this.powerStates.get(ref) ?? 'off', close: async () => undefined };
  }

  async power(target: BmcTarget, action: BmcPowerAction): Promise<void> {
    const ref = await this.reach(target, `power ${action}`);
    this.powerStates.set(ref, action === 'off' || action === 'soft' ? 'off' : 'on');
  }

  async setBootDevice(target: BmcTarget, override: BootOverride): Promise<void> {
    await this.reach(target, `boot ${override.device}`);
  }

  /** The ref of the running node whose BMC answers at the target, or BmcUnreachableError. */
  private async reach(target: BmcTarget, what: string): Promise<string> {
    if (this.beforeAnswer !== null) await this.beforeAnswer(target);
    for (const owned of await this.runtime.list()) {
      if (owned.state !== 'running') continue;
      // A host with an address answers there only; one without answers wherever the fleet publishes.
      const address = this.runtime.hostAddress(owned.host);
      if (address !== null && address !== target.host) continue;
      const node = await this.runtime.observe(owned.ref);
      if (node === null || node.published[`${node.env['IPMI_PORT'] ?? ''}/udp`] !== target.port) continue;
      if (node.env['IPMI_USER'] !== target.user || node.env['IPMI_PASS'] !== target.password) {
        throw new BmcUnreachableError(`${node.ref}: RAKP 2 refused the user or password`, 'AUTH');
      }
      this.calls.push(`${node.ref} ${what}`);
      return node.ref;
    }
    throw new BmcUnreachableError(`no BMC answers at ${target.host}:${target.port}`, 'TIMEOUT');
  }
}
