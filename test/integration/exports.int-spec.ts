/**
 * GET /api/v1/exports/{metal3,ironic,maas} over real HTTP: the application as `npm start` builds it
 * (createApp, the global pipe and token guard) on a real SQLite file holding node rows as creates
 * leave them (inserted after the reconciler's start-up run, so no container is made for them). Every answer passes the checks of test/fixtures/exports (Metal3's CRD schema, Ironic's
 * and MAAS's required fields); bad queries answer 4xx naming the parameter; without the token the
 * credentials stay behind 401.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_PREFIX, createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { PrismaService } from '../../src/database/prisma.service';
import { exportPath } from '../../src/exports/exports.paths';
import { ReconcilerService } from '../../src/reconciler/reconciler.service';
import { exportRow } from '../fixtures/exports/export-nodes';
import { credentialsSecretErrors, ironicResourcesErrors, maasMachinesErrors, metal3HostErrors } from '../fixtures/exports/provisioning-schemas';

const TOKEN = 'export-test-token-0123456789abcdef';

describe('exports API', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-exports-'));
    app = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0', FLEET_NAME: 'exports-it', API_TOKEN: TOKEN }, { cwd: process.cwd() }));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    // The reconciler's start-up run (on an empty database) ends before the rows go in: with
    // RECONCILE_INTERVAL_S=0 no later run repairs these container-less rows.
    await app.get(ReconcilerService).reconcileNow();
    const prisma = app.get(PrismaService);
    const rows = [
      exportRow({ name: 'rack1-a', machine: 'sim', ipmiPort: 16400, redfishPort: 17400, password: 'rack1-a-pass' }),
      exportRow({ name: 'rack1-b', machine: 'qemu', networks: ['lan'], ipmiPort: 16401, redfishPort: 17401, bootMode: 'bios' }),
      exportRow({ name: 'rack2-a', machine: 'sim', ipmiPort: 16402, redfishPort: 17402 }),
      exportRow({ name: 'rack2-new', machine: 'sim', ipmiPort: 16403, redfishPort: 17403, state: 'creating' }),
      exportRow({ name: 'old', machine: 'qemu', ipmiPort: 16404, redfishPort: null }),
    ];
    for (const { leases, ...row } of rows) {
      await prisma.node.create({ data: { ...row, leases: { create: leases.map(({ kind, port, createdAt }) => ({ kind, port, createdAt })) } } });
    }
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('clients build the same paths the application serves', () => {
    expect(exportPath('metal3')).toBe(`/${API_PREFIX}/exports/metal3`);
  });

  function get(path: string, token: string | null = TOKEN): Promise<Response> {
    return fetch(`${baseUrl}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  }

  it('keeps the credentials behind the API token', async () => {
    for (const format of ['metal3', 'ironic', 'maas'] as const) {
      const answer = await get(exportPath(format), null);
      expect(answer.status).toBe(401);
      expect(await answer.text()).not.toContain('rack1-a-pass');
    }
  });

  it('answers Metal3 manifests (YAML) that pass the CRD schema, never cached', async () => {
    const answer = await get(`${exportPath('metal3')}?driver=redfish-virtualmedia&name=rack1-&namespace=metal3&online=true`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-bmcfleet-exported-nodes')).toBe('2');
    const documents = parseAllDocuments(await answer.text(), { version: '1.1' }).map((d) => d.toJS() as Record<string, unknown>);
    expect(documents.map((d) => `${String(d['kind'])}/${String((d['metadata'] as { name: string }).name)}`)).toEqual([
      'Secret/rack1-a-bmc-secret', 'BareMetalHost/rack1-a', 'Secret/rack1-b-bmc-secret', 'BareMetalHost/rack1-b',
    ]);
    for (const d of documents) expect(d['kind'] === 'Secret' ? credentialsSecretErrors(d) : metal3HostErrors(d)).toEqual([]);
    expect(documents[1]).toMatchObject({ metadata: { namespace: 'metal3' }, spec: { online: true, bmc: { address: 'redfish-virtualmedia://127.0.0.1:17400/redfish/v1/Systems/1' } } });
    expect(Buffer.from((documents[0]!['data'] as { password: string }).password, 'base64').toString()).toBe('rack1-a-pass');
  });

  it('answers an Ironic resources file with every running node, leaving out one being created', async () => {
    const answer = await get(exportPath('ironic'));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-bmcfleet-not-ready-nodes')).toBe('1');
    const file = (await answer.json()) as { nodes: Array<{ name: string; driver_info: Record<string, unknown> }> };
    expect(ironicResourcesErrors(file)).toEqual([]);
    expect(file.nodes.map((n) => n.name)).toEqual(['old', 'rack1-a', 'rack1-b', 'rack2-a']);
    expect(file.nodes[1]!.driver_info).toEqual({ ipmi_address: '127.0.0.1', ipmi_port: 16400, ipmi_username: 'admin', ipmi_password: 'rack1-a-pass' });
  });

  it('answers MAAS machines for the nodes selected by name and machine', async () => {
    const answer = await get(`${exportPath('maas')}?names=rack1-a,rack2-a&driver=redfish&host=192.0.2.10`);
    expect(answer.status).toBe(200);
    const file = (await answer.json()) as { machines: Array<{ hostname: string; power_parameters: Record<string, string> }> };
    expect(maasMachinesErrors(file)).toEqual([]);
    expect(file.machines.map((m) => m.hostname)).toEqual(['rack1-a', 'rack2-a']);
    expect(file.machines[0]!.power_parameters['power_address']).toBe('https://192.0.2.10:17400');
    const sims = (await (await get(`${exportPath('maas')}?machine=sim`)).json()) as { machines: Array<{ hostname: string }> };
    expect(sims.machines.map((m) => m.hostname)).toEqual(['rack1-a', 'rack2-a']);
  });

  it.each([
    ['metal3?driver=snmp', 400, /driver must be one of ipmi, redfish, redfish-virtualmedia/],
    ['metal3?namespace=Metal3', 400, /namespace must be a Kubernetes namespace/],
    ['metal3?online=maybe', 400, /online must be true or false/],
    ['ironic?machine=vmware', 400, /machine must be one of qemu, sim/],
    ['ironic?host=a%20b', 400, /host must be a host name or an IP address/],
    ['ironic?host=0.0.0.0', 400, /published on 0\.0\.0\.0 .* give host=/],
    ['ironic?color=blue', 400, /property color should not exist/],
    ['maas?driver=redfish-virtualmedia&name=rack1-', 400, /MAAS has no virtual-media power type/],
    ['ironic?names=rack1-a,ghost', 404, /does not have: ghost/],
    ['ironic?names=rack2-new', 409, /being created or deleted: rack2-new/],
    ['metal3?driver=redfish', 409, /have none .*: old; use driver=ipmi/],
    ['maas', 409, /no NIC .*: old/],
  ])('GET exports/%s → %i naming the rule', async (path, status, message) => {
    const answer = await get(`/${API_PREFIX}/exports/${path}`);
    expect(answer.status).toBe(status);
    const body = (await answer.json()) as { message: string | string[] };
    expect(Array.isArray(body.message) ? body.message.join('; ') : body.message).toMatch(message);
  });
});
