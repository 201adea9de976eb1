/**
 * What containerlab does for a veth link between two running containers (links/link_veth.go,
 * links/endpoint.go in its repository): a veth pair is made in the host's network namespace under
 * temporary names, each end is moved into the network namespace of the container its endpoint names
 * (found by the container's PID), renamed there to the endpoint's interface and brought up. MTU 9500
 * is containerlab's default for veth links. End-to-end tests use this in place of `containerlab
 * deploy`, which is not installed on the test machines.
 *
 * Ownership: the pair's host-side names are recorded; cleanup() deletes any still in the host
 * namespace (a moved end disappears with its container).
 */
import { randomBytes } from 'node:crypto';
import { runAsync } from '../../node-image/test/support/ipmitool-runner';
import { dockerOk } from '../../node-image/test/e2e/node-container';

/** containerlab's DefaultVethLinkMTU. */
const CLAB_VETH_MTU = 9500;
const COMMAND_TIMEOUT_MS = 20_000;

export interface VethEndpoint {
  /** The container (an ext-container node's name is its container name). */
  readonly container: string;
  readonly interface: string;
}

/** "container:interface" as a topology's endpoints write it (split at the first ":"). */
export function vethEndpoint(text: string): VethEndpoint {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) throw new Error(`endpoint "${text}" is not node:interface`);
  return { container: text.slice(0, at), interface: text.slice(at + 1) };
}

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export class VethLinker {
  private readonly hostNames: string[] = [];

  /** Plugs one link into two running containers; returns nothing until both ends are up. */
  async plug(a: VethEndpoint, b: VethEndpoint): Promise<void> {
    // containerlab's temporary names: "clab-" and 8 random characters (links/link.go genRandomIfName).
    const [nameA, nameB] = [`clab-${randomBytes(4).toString('hex')}`, `clab-${randomBytes(4).toString('hex')}`];
    this.hostNames.push(nameA, nameB);
    await run('ip', ['link', 'add', nameA, 'mtu', String(CLAB_VETH_MTU), 'type', 'veth', 'peer', 'name', nameB, 'mtu', String(CLAB_VETH_MTU)]);
    for (const [temporary, endpoint] of [[nameA, a], [nameB, b]] as const) {
      const pid = (await dockerOk(['inspect', '--format', '{{.State.Pid}}', endpoint.container])).trim();
      if (!/^[1-9]\d*$/.test(pid)) throw new Error(`container ${endpoint.container} has no running process (pid ${pid})`);
      await run('ip', ['link', 'set', temporary, 'netns', pid]);
      await run('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', temporary, 'name', endpoint.interface]);
      await run('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', endpoint.interface, 'up']);
    }
  }

  /** Deletes the host-side ends still in the host namespace (a failed plug). Never throws. */
  async cleanup(): Promise<void> {
    for (const name of this.hostNames.splice(0)) {
      await runAsync('ip', ['link', 'del', name], { timeoutMs: COMMAND_TIMEOUT_MS }).catch(() => undefined);
    }
  }
}
