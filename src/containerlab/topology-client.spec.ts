import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';
import { MAX_GET_PATH_LENGTH, topologyHttpRequest } from './topology-client';

describe('topologyHttpRequest', () => {
  it('is a plain GET without options', () => {
    expect(topologyHttpRequest({})).toEqual({ method: 'GET', path: '/api/v1/containerlab/topology' });
  });

  it('puts the options in the query, as long as the URL stays short', () => {
    const request = topologyHttpRequest({ nodes: ['node1', 'node2'], mode: 'linux', name: 'rack1', links: ' node1:eth1 , node2:eth1 ', format: 'json' });
    expect(request.method).toBe('GET');
    const query = new URL(`http://x${request.path}`).searchParams;
    expect(Object.fromEntries(query)).toEqual({ nodes: 'node1,node2', mode: 'linux', name: 'rack1', links: 'node1:eth1,node2:eth1', format: 'json' });
  });

  it('POSTs the options as JSON when the links are too long for a query', () => {
    // Each link is at least 'node1:eth1,switch:e1-0;' (23 characters) before encoding.
    const count = Math.ceil(MAX_GET_PATH_LENGTH / 23) + 1;
    const links = Array.from({ length: count }, (_, i) => `node1:eth1,switch:e1-${i}`).join(';');
    const request = topologyHttpRequest({ nodes: ['node1'], links });
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/containerlab/topology', body: { nodes: ['node1'] } });
    if (request.method !== 'POST') throw new Error('expected POST');
    expect(request.body.links).toHaveLength(count);
    expect(request.body.links?.[2]).toEqual({ endpoints: ['node1:eth1', 'switch:e1-2'] });
  });

  it('refuses a malformed links text before any request, with the server\'s message', () => {
    let caught: unknown;
    try {
      topologyHttpRequest({ links: 'node1:eth1' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ContainerlabError);
    expect((caught as ContainerlabError).code).toBe(ContainerlabErrorCode.InvalidLink);
  });
});
