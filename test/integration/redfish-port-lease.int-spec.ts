/**
 * Nodes' Redfish ports against the real Docker engine (MACHINE=sim): a port held by a host process is
 * skipped like a busy IPMI or VNC port (the create moves its leases and retries); the agent serves
 * HTTPS on the leased port with the certificate read back from its container (the fleet endpoint's
 * pin); a node whose row has no Redfish lease (made before Redfish ports) gets one when the
 * reconciler makes its container anew.
 */
import { createServer, type Server } from 'node:net';
import { request } from 'node:https';
import { describeWithDocker, DockerFleet } from './support/docker-fleet';
import { leasePortOrNull } from '../../src/nodes/node.model';

jest.setTimeout(240_000);

async function rootStatus(port: number, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/redfish/v1', ca, agent: false, timeout: 10_000, checkServerIdentity: () => undefined }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

describeWithDocker('Redfish port leases')('Redfish port leases of nodes', () => {
  const fleet = new DockerFleet();
  beforeAll(() => fleet.start());
  afterAll(() => fleet.close());

  const base = { machine: 'sim' as const, memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: 'redfish-pass-1' };

  /** The agent's certificate, read out of the container as the fleet endpoint pins it (bounded wait). */
  async function certificateOf(containerName: string): Promise<string> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const pem = (await fleet.adapter.readContainerFile(containerName, '/vm/bmc/redfish-cert.pem', 65_536))?.toString('utf8');
      if (pem?.includes('BEGIN CERTIFICATE')) return pem;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no Redfish certificate in ${containerName}`);
  }

  /**
   * GET /redfish/v1 on the node's port with the certificate read back from its container, retried
   * (bounded) while the agent starts: Docker's proxy accepts before the agent listens, and a container
   * made anew may first show the certificate its volume kept until the agent makes one for its new address.
   */
  async function servingStatus(containerName: string, port: number): Promise<number> {
    let last: unknown;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      try {
        return await rootStatus(port, await certificateOf(containerName));
      } catch (error) {
        last = error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw new Error(`${containerName}: no HTTPS answer on ${port}: ${String(last)}`);
  }

  it('skips a Redfish port a host process holds, and the node serves HTTPS on the port it got', async () => {
    const held = fleet.config.redfishPortRange.first;
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(held, '127.0.0.1', resolve));
    const view = await fleet.nodes.create({ name: 'rf-busy', ...base }).finally(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    expect(view.redfish).not.toBeNull();
    expect(view.redfish!.port).not.toBe(held);
    const events = await fleet.prisma.nodeEvent.findMany({ where: { nodeId: view.id }, orderBy: { id: 'asc' } });
    expect(events.some((event) => event.type === 'error' && /busy outside the fleet/.test(event.message) && new RegExp(`Redfish ${view.redfish!.port}/tcp`).test(event.message))).toBe(true);
    expect(await servingStatus(view.container.name, view.redfish!.port)).toBe(200);
    expect(await fleet.adapter.readContainerFile(view.container.name, '/vm/bmc/no-such-file', 1024)).toBeNull();
  });

  it('gives a node made before Redfish ports one when the reconciler makes its container anew', async () => {
    const view = await fleet.nodes.create({ name: 'rf-old', ...base });
    // As a row from before Redfish ports: no redfish lease, and its container gone.
    await fleet.prisma.portLease.deleteMany({ where: { nodeId: view.id, kind: 'redfish' } });
    expect((await fleet.nodes.get('rf-old')).redfish).toBeNull();
    await fleet.adapter.removeContainer(view.container.name);

    const report = await fleet.reconciler.reconcileNow();
    expect(report.errors).toEqual([]);
    const row = (await fleet.row('rf-old'))!;
    const port = leasePortOrNull(row, 'redfish');
    expect(port).not.toBeNull();
    const inspected = await fleet.adapter.inspectContainer(view.container.name);
    expect(inspected?.env['REDFISH_PORT']).toBe(String(port));
    expect(inspected?.publishedPorts[`${port}/tcp`]).toBe(port);
    expect(await servingStatus(view.container.name, port!)).toBe(200);
  });
});
