/**
 * GET and POST /api/v1/containerlab/topology over real HTTP: the Nest application with the
 * containerlab module, the global validation pipe as AppModule registers it, and a node source
 * holding node rows as the orchestrator stores them. Every topology answered passes containerlab's
 * JSON schema (test/fixtures/containerlab, draft-07 with Ajv): 1, 2 and 50 nodes, in both modes;
 * refused requests answer 4xx with the reason and nothing rendered.
 */
import 'reflect-metadata';
import { Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { API_PREFIX } from '../../src/app.factory';
import { AppConfigModule } from '../../src/config/app-config.module';
import { parseAppConfig } from '../../src/config/env.schema';
import { ContainerlabNodeSource, type ContainerlabNodeRecord } from '../../src/containerlab/containerlab-node-source';
import { UNDEFINED_NODE_COUNT_HEADER, UNDEFINED_NODES_HEADER } from '../../src/containerlab/containerlab.controller';
import { ContainerlabModule } from '../../src/containerlab/containerlab.module';
import { CONTAINERLAB_TOPOLOGY_PATH } from '../../src/containerlab/containerlab.paths';
import { clabSchemaErrors, clabSchemaErrorsOfYaml } from '../fixtures/containerlab/clab-schema';
import { fleetRecords, nodeRow, recordOf } from '../fixtures/containerlab/node-records';

/** The fleet the source answers with; each test sets it. */
let fleet: ContainerlabNodeRecord[] = [];

class FixtureNodeSource extends ContainerlabNodeSource {
  async list(): Promise<ContainerlabNodeRecord[]> {
    return fleet;
  }
}

@Module({ providers: [{ provide: ContainerlabNodeSource, useClass: FixtureNodeSource }], exports: [ContainerlabNodeSource] })
class FixtureNodesModule {}

const PATH = `/${API_PREFIX}/containerlab/topology`;

it('clients build the same path the application serves', () => {
  expect(CONTAINERLAB_TOPOLOGY_PATH).toBe(PATH);
});

/** A ring over node1…nodeN on their eth2 → eth1, as endpoint pairs. */
function ring(count: number): Array<[string, string]> {
  if (count < 2) return [];
  return Array.from({ length: count }, (_, i) => [`node${i + 1}:eth2`, `node${((i + 1) % count) + 1}:eth1`]);
}

describe('containerlab topology API', () => {
  let app: NestExpressApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const config = parseAppConfig({ LOG_LEVEL: 'warn', FLEET_NAME: 'rack7' }, { cwd: process.cwd() });
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(config), ContainerlabModule.register({ imports: [FixtureNodesModule] })],
      // As AppModule registers it (src/app.module.ts).
      providers: [{ provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) }],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'] });
    app.setGlobalPrefix(API_PREFIX);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  async function get(query: string): Promise<Response> {
    return fetch(`${baseUrl}${PATH}${query}`);
  }

  async function post(body: unknown): Promise<Response> {
    return fetch(`${baseUrl}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async function yamlOf(response: Response): Promise<string> {
    const text = await response.text();
    expect({ status: response.status, text: response.status === 200 ? '' : text }).toEqual({ status: 200, text: '' });
    expect(response.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    return text;
  }

  describe.each(['ext-container', 'linux'] as const)('mode=%s', (mode) => {
    it.each([1, 2, 50])('%i node(s), linked in a ring, pass containerlab\'s schema', async (count) => {
      fleet = fleetRecords(count, ['eth1', 'eth2']);
      const links = ring(count);
      // The 50-node ring is too long for a comfortable query string: POST it, as a client would.
      const response = count <= 2
        ? await get(`?mode=${mode}&links=${encodeURIComponent(links.map((l) => l.join(',')).join(';'))}`)
        : await post({ mode, links: links.map((endpoints) => ({ endpoints })) });
      const yaml = await yamlOf(response);
      expect(clabSchemaErrorsOfYaml(yaml)).toEqual([]);
      const topology = parse(yaml) as { name: string; topology: { nodes: Record<string, { kind: string }>; links?: unknown[] } };
      expect(topology.name).toBe('rack7');
      expect(Object.values(topology.topology.nodes).map((n) => n.kind)).toEqual(Array(count).fill(mode));
      expect(topology.topology.links ?? []).toHaveLength(links.length);
    });
  });

  it('format=json answers the same topology as JSON', async () => {
    fleet = fleetRecords(2);
    const yaml = await yamlOf(await get('?links=node1:eth1,node2:eth1'));
    const response = await get('?links=node1:eth1,node2:eth1&format=json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await response.json()) as unknown;
    expect(json).toEqual(parse(yaml));
    expect(clabSchemaErrors(json)).toEqual([]);
  });

  it('renders the nodes named, under the lab name given, and names the file', async () => {
    fleet = fleetRecords(3);
    const response = await get('?nodes=node3,node1&name=lab-a');
    const topology = parse(await yamlOf(response)) as { name: string; topology: { nodes: Record<string, unknown> } };
    expect(topology.name).toBe('lab-a');
    // Container names (the fixture's rows were created under FLEET_NAME bmcfleet).
    expect(Object.keys(topology.topology.nodes)).toEqual(['bmcfleet-node1', 'bmcfleet-node3']);
    expect(response.headers.get('content-disposition')).toBe('inline; filename="lab-a.clab.yml"');
  });

  it('accepts repeated nodes and links parameters', async () => {
    fleet = fleetRecords(3, ['eth1', 'eth2']);
    const topology = parse(await yamlOf(await get('?nodes=node1&nodes=node2&links=node1:eth1,node2:eth1&links=node1:eth2,node2:eth2'))) as {
      topology: { links: Array<{ endpoints: string[] }> };
    };
    expect(topology.topology.links.map((l) => l.endpoints)).toEqual([
      ['bmcfleet-node1:eth1', 'bmcfleet-node2:eth1'],
      ['bmcfleet-node1:eth2', 'bmcfleet-node2:eth2'],
    ]);
  });

  it('lists nodes the links name that the topology does not define', async () => {
    fleet = fleetRecords(1);
    const response = await get('?links=node1:eth1,switch:e1-1');
    const yaml = await yamlOf(response);
    expect(response.headers.get(UNDEFINED_NODES_HEADER)).toBe('switch');
    expect(response.headers.get(UNDEFINED_NODE_COUNT_HEADER)).toBe('1');
    expect(yaml).toContain('# Links name nodes this file does not define: switch.');
  });

  it('never answers a node\'s IPMI password, in either format', async () => {
    fleet = [recordOf(nodeRow('node1', { ipmiPassword: 'Pa55-word-0f-node1', labInterfaces: ['eth1'] }))];
    for (const query of ['?mode=linux', '?mode=linux&format=json', '', '?format=json']) {
      const text = await (await get(query)).text();
      expect(text).not.toContain('Pa55-word-0f-node1');
    }
    expect(await (await get('?mode=linux')).text()).toContain('${BMCFLEET_NODE1_IPMI_PASS}');
  });

  it.each([
    ['?name=my%20lab', 400, /lab name "my lab" is not one containerlab accepts/],
    ['?links=node1:eth1', 400, /link 1 .*two endpoints separated by ","/],
    ['?links=node1:eth9,node2:eth1', 400, /node node1 has no lab interface eth9/],
    ['?links=node1:eth1,bad%20node:eth1', 400, /names node "bad node", which containerlab would refuse/],
    ['?links=node1:thisnameistoolong,x:y', 400, /longer than 15 bytes/],
    ['?nodes=node1,node9', 404, /the fleet has no node named "node9"/],
    ['?mode=docker', 400, /mode must be one of ext-container, linux/],
    ['?format=xml', 400, /format must be one of yaml, json/],
    ['?colour=blue', 400, /property colour should not exist/],
  ])('GET %s answers %i with the reason', async (query, status, message) => {
    fleet = fleetRecords(2);
    const response = await get(query);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { message: string | string[] };
    expect(Array.isArray(body.message) ? body.message.join('; ') : body.message).toMatch(message);
  });

  it.each([
    [{ links: [{ endpoints: ['node1:eth1'] }] }, /endpoints must contain at least 2 elements/],
    [{ links: [{ endpoints: ['node1:eth1', 'node2'] }] }, /each endpoint must be node:interface/],
    [{ links: [{ endpoints: ['node1:eth1', 'node2:eth1'] }, { endpoints: ['node1:eth1', 'x:e1'] }] }, /link 2: endpoint bmcfleet-node1:eth1 is used twice/],
    [{ nodes: 'node1' }, /nodes must be an array/],
  ])('POST %j answers 400 with the reason', async (body, message) => {
    fleet = fleetRecords(2);
    const response = await post(body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { message: string | string[] };
    expect(Array.isArray(answer.message) ? answer.message.join('; ') : answer.message).toMatch(message);
  });

  it('describes both operations, and the links syntax, in the OpenAPI document', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    const path = document.paths[PATH];
    expect(path?.get?.parameters?.map((p) => ('name' in p ? p.name : '')).sort()).toEqual(['format', 'links', 'mode', 'name', 'nodes']);
    const links = path?.get?.parameters?.find((p) => 'name' in p && p.name === 'links');
    expect(links && 'description' in links ? links.description : '').toMatch(/links separated by ";", each two endpoints node:interface separated by ","/);
    expect(path?.post?.requestBody).toBeDefined();
    expect(Object.keys(path?.get?.responses ?? {}).sort()).toEqual(['200', '400', '404', '409']);
  });
});
