import { redfishCore, errorCodeOf } from '../../test-support/redfish-core';

const SYSTEM = '/redfish/v1/Systems/1';
/** The JSON body, read freely by the assertions. */
const json = (r: { body?: unknown }): any => r.body;

describe('system inventory resources', () => {
  let env: ReturnType<typeof redfishCore>;
  beforeEach(() => { env = redfishCore(); });
  afterEach(async () => { await env.machine.close(); });

  it('the system links every inventory collection, and each answers with an ETag', async () => {
    const sys = json(await env.send('GET', SYSTEM));
    for (const key of ['EthernetInterfaces', 'Processors', 'Memory', 'Storage', 'SimpleStorage', 'Bios', 'SecureBoot']) {
      const r = await env.send('GET', sys[key]['@odata.id']);
      expect([key, r.status, r.headers.ETag]).toEqual([key, 200, json(r)['@odata.etag']]);
    }
  });

  it('EthernetInterfaces: one per VM NIC with its MAC, Enabled, link up only while powered on', async () => {
    const coll = json(await env.send('GET', `${SYSTEM}/EthernetInterfaces`));
    expect(coll.Members).toEqual([{ '@odata.id': `${SYSTEM}/EthernetInterfaces/eth1` }, { '@odata.id': `${SYSTEM}/EthernetInterfaces/eth2` }]);
    const nic = json(await env.send('GET', `${SYSTEM}/EthernetInterfaces/eth1`));
    expect(nic).toMatchObject({ Id: 'eth1', MACAddress: '52:54:00:aa:bb:cc', PermanentMACAddress: '52:54:00:aa:bb:cc', Status: { State: 'Enabled' }, LinkStatus: 'LinkDown' });
    await env.machine.power('on');
    expect(json(await env.send('GET', `${SYSTEM}/EthernetInterfaces/eth1`)).LinkStatus).toBe('LinkUp');
    const missing = await env.send('GET', `${SYSTEM}/EthernetInterfaces/eth9`);
    expect([missing.status, errorCodeOf(missing)]).toEqual([404, 'ResourceMissingAtURI']);
  });

  it('Processors and Memory add up to the machine (VM_CPUS cores, VM_MEMORY MiB)', async () => {
    const procs = json(await env.send('GET', `${SYSTEM}/Processors`));
    expect(procs['Members@odata.count']).toBe(1);
    const cpu = json(await env.send('GET', procs.Members[0]['@odata.id']));
    expect(cpu).toMatchObject({ ProcessorType: 'CPU', InstructionSet: 'x86-64', TotalCores: 4, TotalThreads: 4 });
    const mem = json(await env.send('GET', `${SYSTEM}/Memory`));
    let total = 0;
    for (const m of mem.Members) total += json(await env.send('GET', m['@odata.id'])).CapacityMiB;
    expect(total).toBe(3072);
    expect(json(await env.send('GET', SYSTEM)).MemorySummary.TotalSystemMemoryGiB).toBe(3);
    expect(json(await env.send('GET', SYSTEM)).ProcessorSummary).toMatchObject({ Count: 1, CoreCount: 4, LogicalProcessorCount: 4 });
    expect((await env.send('GET', `${SYSTEM}/Processors/CPU2`)).status).toBe(404);
  });

  it('Storage has the disk with its size and the CD drive; SimpleStorage lists the same devices', async () => {
    const storage = json(await env.send('GET', `${SYSTEM}/Storage/1`));
    const drives = [];
    for (const d of storage.Drives) drives.push(json(await env.send('GET', d['@odata.id'])));
    expect(drives).toEqual([
      expect.objectContaining({ Id: 'Disk0', MediaType: 'HDD', CapacityBytes: 20 * 1024 ** 3 }),
      expect.objectContaining({ Id: 'CD0', Model: 'QEMU DVD-ROM', CapacityBytes: 0 }),
    ]);
    const simple = json(await env.send('GET', `${SYSTEM}/SimpleStorage/1`));
    expect(simple.Devices.map((d: { Name: string; CapacityBytes?: number }) => [d.Name, d.CapacityBytes])).toEqual([['System disk', 20 * 1024 ** 3], ['CD/DVD drive', 0]]);
    expect((await env.send('GET', `${SYSTEM}/Storage/1/Drives/Disk9`)).status).toBe(404);
    expect((await env.send('GET', `${SYSTEM}/Storage/2/Drives/Disk0`)).status).toBe(404);
  });

  it('inventories are read-only: PATCH answers 405 with Allow', async () => {
    const r = await env.send('PATCH', `${SYSTEM}/Processors/CPU1`, { body: { TotalCores: 8 } });
    expect([r.status, r.headers.Allow]).toEqual([405, 'GET']);
  });

  it('Manager NetworkProtocol: IPMI, HTTPS and RFB on their ports, the rest off', async () => {
    const mgr = json(await env.send('GET', '/redfish/v1/Managers/1'));
    const np = json(await env.send('GET', mgr.NetworkProtocol['@odata.id']));
    expect(np).toMatchObject({
      HostName: 'n1', IPMI: { ProtocolEnabled: true, Port: 623 }, HTTPS: { ProtocolEnabled: true, Port: 443 },
      RFB: { ProtocolEnabled: true, Port: 5900 }, HTTP: { ProtocolEnabled: false }, SSH: { ProtocolEnabled: false }, Telnet: { ProtocolEnabled: false },
    });
  });
});
