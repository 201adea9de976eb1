/**
 * HttpFleetApi's requests (URL, method, headers, body) through an injected fetch, and the pure
 * messages for HTTP errors and for requests that got no answer. Real HTTP is in
 * test/integration/cli.int-spec.ts.
 */
import { FleetApiError, OrchestratorUnreachableError } from './fleet-api';
import { ContainerlabError } from '../containerlab/containerlab.error';
import { apiErrorMessage, describeFetchFailure, HttpFleetApi } from './http-fleet-api';

interface Call { readonly url: string; readonly method: string; readonly headers: Record<string, string>; readonly body: string | undefined }

function stubFetch(status: number, body: string, statusText = ''): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), method: init?.method ?? 'GET', headers: init?.headers as Record<string, string>, body: init?.body as string | undefined });
    return new Response(status === 204 ? null : body, { status, statusText });
  };
  return { fetch: fn as typeof fetch, calls };
}

describe('HttpFleetApi requests', () => {
  it('lists nodes with the bearer token', async () => {
    const { fetch, calls } = stubFetch(200, '[]');
    const sut = new HttpFleetApi({ url: 'http://127.0.0.1:8080/', token: 's3cret', fetch });
    await expect(sut.listNodes()).resolves.toEqual([]);
    expect(calls).toEqual([{ url: 'http://127.0.0.1:8080/api/v1/nodes', method: 'GET', headers: expect.objectContaining({ authorization: 'Bearer s3cret' }), body: undefined }]);
  });

  it('lists with filters and pages as the query; a page must be { items, nextCursor }', async () => {
    const { fetch, calls } = stubFetch(200, '{"items":[],"nextCursor":"N"}');
    const sut = new HttpFleetApi({ url: 'http://h:1', token: null, fetch });
    await expect(sut.listNodePage({ name: 'rack1-', machine: 'sim', powerState: 'on', limit: 50, cursor: 'C+/=' })).resolves.toEqual({ items: [], nextCursor: 'N' });
    expect(calls[0]!.url).toBe('http://h:1/api/v1/nodes?name=rack1-&machine=sim&powerState=on&limit=50&cursor=C%2B%2F%3D');
    const plain = stubFetch(200, '[]');
    await new HttpFleetApi({ url: 'http://h:1', token: null, fetch: plain.fetch }).listNodes({ machine: 'qemu' });
    expect(plain.calls[0]!.url).toBe('http://h:1/api/v1/nodes?machine=qemu');
    const old = stubFetch(200, '[]');
    await expect(new HttpFleetApi({ url: 'http://h:1', token: null, fetch: old.fetch }).listNodePage({ limit: 5 })).rejects.toThrow('without { items, nextCursor }');
  });

  it('posts a node batch to /api/v1/node-batches', async () => {
    const { fetch, calls } = stubFetch(201, '{"namePrefix":"r","count":1,"machine":"sim","nodes":[]}');
    await new HttpFleetApi({ url: 'http://h:1', token: null, fetch }).createNodeBatch({ namePrefix: 'r', count: 1, machine: 'sim' });
    expect(calls).toEqual([{ url: 'http://h:1/api/v1/node-batches', method: 'POST', headers: expect.objectContaining({ 'content-type': 'application/json' }), body: '{"namePrefix":"r","count":1,"machine":"sim"}' }]);
  });

  it('gets an export with its options as the query, answering the text', async () => {
    const { fetch, calls } = stubFetch(200, '---\nkind: Secret\n');
    const sut = new HttpFleetApi({ url: 'http://h:1/', token: 't', fetch });
    await expect(sut.export('metal3', { driver: 'redfish', names: ['a', 'b'], online: false, namespace: 'm3' })).resolves.toBe('---\nkind: Secret\n');
    await sut.export('maas', {});
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ['GET', 'http://h:1/api/v1/exports/metal3?driver=redfish&names=a%2Cb&namespace=m3&online=false'],
      ['GET', 'http://h:1/api/v1/exports/maas'],
    ]);
    expect(calls[0]!.headers).toEqual(expect.objectContaining({ authorization: 'Bearer t' }));
  });

  it('sends no authorization header without a token', async () => {
    const { fetch, calls } = stubFetch(200, '{"powerState":"on"}');
    await new HttpFleetApi({ url: 'http://h:1', token: null, fetch }).powerStatus('n1');
    expect(calls[0]!.headers).not.toHaveProperty('authorization');
    expect(calls[0]!.url).toBe('http://h:1/api/v1/nodes/n1/power');
  });

  it('posts JSON for create and power, deletes with ?purge=true only when asked', async () => {
    const { fetch, calls } = stubFetch(201, '{"name":"n1"}');
    const sut = new HttpFleetApi({ url: 'http://h:1', token: null, fetch });
    await sut.createNode({ name: 'n1', cpus: 2 });
    await sut.power('n1', 'cycle');
    expect(calls.map((c) => [c.method, c.url, c.body, c.headers['content-type']])).toEqual([
      ['POST', 'http://h:1/api/v1/nodes', '{"name":"n1","cpus":2}', 'application/json'],
      ['POST', 'http://h:1/api/v1/nodes/n1/power', '{"action":"cycle"}', 'application/json'],
    ]);
    const deletes = stubFetch(204, '');
    const del = new HttpFleetApi({ url: 'http://h:1', token: null, fetch: deletes.fetch });
    await del.deleteNode('n1', false);
    await del.deleteNode('n1', true);
    expect(deletes.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['DELETE http://h:1/api/v1/nodes/n1', 'DELETE http://h:1/api/v1/nodes/n1?purge=true']);
  });

  it('asks for the topology (YAML) with the given parameters and returns the text', async () => {
    const { fetch, calls } = stubFetch(200, 'name: fleet\n');
    const sut = new HttpFleetApi({ url: 'http://h:1', token: 't', fetch });
    const yaml = await sut.topology({ nodes: ['a', 'b'], mode: 'linux', name: 'lab1', links: 'a:eth1,b:eth1' });
    expect(yaml).toBe('name: fleet\n');
    expect(calls[0]).toMatchObject({ method: 'GET', url: 'http://h:1/api/v1/containerlab/topology?nodes=a%2Cb&mode=linux&name=lab1&links=a%3Aeth1%2Cb%3Aeth1&format=yaml' });
    expect(calls[0]!.headers).toMatchObject({ authorization: 'Bearer t' });
  });

  it('sends a long link list as a POST body, and refuses a malformed one before any request', async () => {
    const { fetch, calls } = stubFetch(200, 'name: fleet\n');
    const sut = new HttpFleetApi({ url: 'http://h:1', token: null, fetch });
    const links = Array.from({ length: 400 }, (_, i) => `node${i}:eth1,switch:eth${i + 1}`).join(';');
    await sut.topology({ links });
    expect(calls[0]).toMatchObject({ method: 'POST', url: 'http://h:1/api/v1/containerlab/topology' });
    expect(JSON.parse(calls[0]!.body!)).toMatchObject({ format: 'yaml', links: expect.arrayContaining([{ endpoints: ['node0:eth1', 'switch:eth1'] }]) });
    await expect(sut.topology({ links: 'node1-eth1' })).rejects.toBeInstanceOf(ContainerlabError);
    expect(calls).toHaveLength(1);
  });

  it('turns an HTTP error into FleetApiError with the API message', async () => {
    const { fetch } = stubFetch(409, '{"statusCode":409,"message":"node n1 exists","error":"Conflict"}', 'Conflict');
    const err = await new HttpFleetApi({ url: 'http://h:1', token: null, fetch }).createNode({ name: 'n1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetApiError);
    expect(err).toMatchObject({ status: 409, message: 'node n1 exists (HTTP 409 Conflict)' });
  });

  it('turns a failed fetch into OrchestratorUnreachableError', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    const fetch = (async () => { throw refused; }) as unknown as typeof globalThis.fetch;
    const err = await new HttpFleetApi({ url: 'http://127.0.0.1:1', token: null, fetch }).listNodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrchestratorUnreachableError);
    expect((err as Error).message).toContain('the orchestrator is not running at http://127.0.0.1:1');
  });
});

describe('apiErrorMessage', () => {
  it("uses Nest's message, a string or the validation pipe's list", () => {
    expect(apiErrorMessage(404, 'Not Found', '{"statusCode":404,"message":"node x does not exist","error":"Not Found"}')).toBe('node x does not exist (HTTP 404 Not Found)');
    expect(apiErrorMessage(400, 'Bad Request', '{"statusCode":400,"message":["cpus must not be less than 1","property x should not exist"],"error":"Bad Request"}'))
      .toBe('cpus must not be less than 1; property x should not exist (HTTP 400 Bad Request)');
  });

  it('says how to give the token on 401', () => {
    expect(apiErrorMessage(401, 'Unauthorized', '{"statusCode":401,"message":"invalid bearer token","error":"Unauthorized"}'))
      .toBe("invalid bearer token (HTTP 401 Unauthorized): give the orchestrator's API token with --token or BMCFLEET_API_TOKEN");
  });

  it('falls back to a short plain-text body, else the status line', () => {
    expect(apiErrorMessage(502, 'Bad Gateway', 'upstream down')).toBe('upstream down (HTTP 502 Bad Gateway)');
    expect(apiErrorMessage(500, '', '<html>oops</html>')).toBe('HTTP 500');
    expect(apiErrorMessage(503, 'Service Unavailable', '')).toBe('HTTP 503 Service Unavailable');
  });
});

describe('describeFetchFailure', () => {
  const url = 'http://127.0.0.1:8080';
  const withCode = (code: string): Error => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

  it('names each way of getting no answer', () => {
    expect(describeFetchFailure(url, withCode('ECONNREFUSED'), 1000)).toMatch(/^the orchestrator is not running at http:\/\/127\.0\.0\.1:8080 \(connection refused\)/);
    expect(describeFetchFailure(url, withCode('ENOTFOUND'), 1000)).toBe('cannot resolve the host of the orchestrator URL http://127.0.0.1:8080');
    expect(describeFetchFailure(url, withCode('EHOSTUNREACH'), 1000)).toBe('cannot reach the orchestrator at http://127.0.0.1:8080 (EHOSTUNREACH)');
    expect(describeFetchFailure(url, Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 300_000)).toBe('no answer from the orchestrator at http://127.0.0.1:8080 within 300 s');
  });

  it('finds the code inside an AggregateError (localhost resolving to ::1 and 127.0.0.1)', () => {
    const both = new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })]);
    expect(describeFetchFailure(url, Object.assign(new TypeError('fetch failed'), { cause: both }), 1000)).toContain('not running');
  });

  it('otherwise gives the cause as it is', () => {
    expect(describeFetchFailure(url, Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }), 1000)).toBe('cannot reach the orchestrator at http://127.0.0.1:8080: bad port');
  });
});
