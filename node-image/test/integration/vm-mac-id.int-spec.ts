/**
 * VM_MAC_ID on the agent process (MACHINE=sim, on the host): the NICs its Redfish service reports carry
 * the block's MACs (52:55:<id>:<NIC index>), in VM_NETWORKS order; without it, the MACs derived from
 * NODE_NAME; a VM_MAC_ID out of range stops the agent at start with a message naming the variable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allocatedNicMac, vmNicMac } from '../../src/machine/vm-nics';
import { AGENT_MAIN, startAgent } from '../support/agent-process';
import { redfishCall, startRedfishAgent, type RedfishAgent } from '../support/redfish-http';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const ADMIN = { user: 'admin', password: 'password' };

jest.setTimeout(60_000);

async function nicMacs(rf: RedfishAgent): Promise<Record<string, string>> {
  const list = await redfishCall(rf, 'GET', '/redfish/v1/Systems/1/EthernetInterfaces', { auth: ADMIN });
  expect(list.status).toBe(200);
  const macs: Record<string, string> = {};
  for (const member of list.body.Members as Array<{ '@odata.id': string }>) {
    const nic = await redfishCall(rf, 'GET', member['@odata.id'], { auth: ADMIN });
    macs[nic.body.Id as string] = String(nic.body.MACAddress).toLowerCase();
  }
  return macs;
}

describe('VM_MAC_ID: the VM NIC MACs the agent reports', () => {
  const running: RedfishAgent[] = [];
  beforeAll(() => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
  });
  afterAll(async () => { for (const rf of running) await rf.agent.stop(); });

  it('with a block: eth0 of a sim node is 52:55:<id>:00', async () => {
    const rf = await startRedfishAgent({ NODE_NAME: 'mac-a', VM_MAC_ID: String(0x0a0b0c) });
    running.push(rf);
    expect(Object.values(await nicMacs(rf))).toEqual([allocatedNicMac(0x0a0b0c, 0)]);
    expect(allocatedNicMac(0x0a0b0c, 0)).toBe('52:55:0a:0b:0c:00');
  });

  it('without one: the MAC derived from NODE_NAME, as before', async () => {
    const rf = await startRedfishAgent({ NODE_NAME: 'mac-b' });
    running.push(rf);
    expect(Object.values(await nicMacs(rf))).toEqual([vmNicMac('mac-b', 'eth0')]);
  });

  it('out of range: the agent does not start and names VM_MAC_ID', async () => {
    const started = startAgent({ VM_MAC_ID: '16777216' });
    // An agent that started after all is stopped, so the failure is the assertion, not a process left behind.
    void started.then((agent) => agent.stop(), () => undefined);
    await expect(started).rejects.toThrow('VM_MAC_ID="16777216" must be a whole number from 1 to 16777215');
  });
});
