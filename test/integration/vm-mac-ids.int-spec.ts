/**
 * VM NIC MAC blocks (macId, the container's VM_MAC_ID) on the real app and a real SQLite file: every
 * node row inserted with its leases gets a block of its own, also when many inserts race (as a batch
 * makes them, several at a time); rows made before blocks keep none; past the last block the lowest
 * free one is taken; the node's container environment carries it and the exports give the MACs the
 * agent makes from it.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatedNicMac, VM_MAC_ID_MAX, vmNicMac } from '../../node-image/src/machine/vm-nics';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { PrismaService } from '../../src/database/prisma.service';
import { nicsOf } from '../../src/exports/export-node';
import { nodeEnvironment } from '../../src/nodes/node-spec';
import { noBusyPorts, PortLeases } from '../../src/nodes/port-leases.service';

/** Every node on one host: leases are per host, and these tests are about MAC blocks. */
const ONE_HOST = (): string => 'test-host';

describe('VM MAC blocks of node rows', () => {
  let app: NestExpressApplication;
  let dataDir: string;
  let prisma: PrismaService;
  let leases: PortLeases;
  const dockerHost = process.env.DOCKER_HOST;

  const row = (name: string) => ({
    id: `id-${name}`, name, machine: 'sim', memoryMiB: 512, cpus: 1, diskSizeGiB: 1, bootMode: 'bios', bootMenuTimeoutMs: 0,
    enableKvm: 'false', powerOnAtStart: false, ipmiUser: 'admin', ipmiPassword: 'mac-secret', runtimeRef: `bmcfleet-${name}`,
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-macs-'));
    process.env.DOCKER_HOST = `unix://${join(dataDir, 'no-engine.sock')}`;
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'error', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0' }, { cwd: process.cwd() }));
    prisma = app.get(PrismaService);
    leases = app.get(PortLeases);
  });

  afterAll(async () => {
    await app?.close();
    if (dockerHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = dockerHost;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a row made before MAC blocks keeps none: its environment has no VM_MAC_ID and its MACs stay derived from its name', async () => {
    await prisma.node.create({ data: { ...row('old-node'), leases: { create: [{ kind: 'ipmi', port: 29990 }, { kind: 'vnc', port: 29991 }] } } });
    const old = await prisma.node.findUniqueOrThrow({ where: { name: 'old-node' }, include: { leases: true } });
    expect(old.macId).toBeNull();
    expect(nodeEnvironment(old, {})).not.toHaveProperty('VM_MAC_ID');
    expect(nicsOf(old)).toEqual([{ name: 'eth0', mac: vmNicMac('old-node', 'eth0') }]);
  });

  it('40 inserts racing (8 at a time) get 40 distinct blocks; each node\'s environment and exports carry its own', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `racer-${i}`);
    for (let i = 0; i < names.length; i += 8) {
      await Promise.all(names.slice(i, i + 8).map((name) => leases.insertWithLeases(row(name), noBusyPorts(), ONE_HOST)));
    }
    const rows = await prisma.node.findMany({ where: { name: { startsWith: 'racer-' } }, include: { leases: true } });
    const ids = rows.map((r) => r.macId);
    expect(ids.every((id) => typeof id === 'number' && id >= 1)).toBe(true);
    expect(new Set(ids).size).toBe(40);
    const macs = rows.flatMap((r) => nicsOf(r).map((nic) => nic.mac));
    expect(new Set(macs).size).toBe(40);
    for (const r of rows) {
      expect(nodeEnvironment(r, { VM_MAC_ID: '7' })['VM_MAC_ID']).toBe(String(r.macId));
      expect(nicsOf(r)).toEqual([{ name: 'eth0', mac: allocatedNicMac(r.macId!, 0) }]);
    }
  });

  it('past the last block, the lowest free one is taken', async () => {
    await prisma.node.create({ data: { ...row('top-node'), macId: VM_MAC_ID_MAX } });
    // Free a low block, as a deleted node does.
    await prisma.node.delete({ where: { name: 'racer-0' } });
    const freed = (await prisma.node.findMany({ where: { macId: { not: null } }, orderBy: { macId: 'asc' }, select: { macId: true } })).map((r) => r.macId!);
    let expected = 1;
    for (const id of freed) { if (id !== expected) break; expected += 1; }
    const next = await leases.insertWithLeases(row('after-top'), noBusyPorts(), ONE_HOST);
    expect(next.macId).toBe(expected);
    expect(expected).toBeLessThan(VM_MAC_ID_MAX);
  });
});
