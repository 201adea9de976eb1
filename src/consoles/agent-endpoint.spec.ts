import type { ObservedNode } from '../runtime/node-runtime';
import { agentCertificatePath, agentEndpointOf } from './agent-endpoint';

const container = (over: Partial<ObservedNode> = {}): ObservedNode => ({
  runtimeId: 'c1', ref: 'bmcfleet-n1', nodeId: 'id-n1', nodeName: 'n1', state: 'running', host: 'h1', env: {}, image: 'bmcfleet/node:latest', published: {},
  networks: [], address: '172.17.0.5', addresses: {}, hostAddress: 'h1', exit: null, ...over,
});
const lease = (kind: string, port: number) => ({ id: 1, kind, port, nodeId: 'n1' });

describe('agentEndpointOf', () => {
  it('uses the published Redfish port on PUBLISH_ADDRESS when the node has one', () => {
    expect(agentEndpointOf({ name: 'n1', leases: [lease('ipmi', 16230), lease('redfish', 17000)] }, null, '127.0.0.1')).toEqual({ ok: true, endpoint: { host: '127.0.0.1', port: 17000 } });
  });

  it('otherwise the container\'s address on its network with REDFISH_PORT (443 by default)', () => {
    const node = { name: 'n1', leases: [lease('ipmi', 16230)] };
    expect(agentEndpointOf(node, container(), '127.0.0.1')).toEqual({ ok: true, endpoint: { host: '172.17.0.5', port: 443 } });
    expect(agentEndpointOf(node, container({ env: { REDFISH_PORT: '8443' }, address: null, addresses: { lab: '10.9.0.2' } }), '127.0.0.1')).toEqual({ ok: true, endpoint: { host: '10.9.0.2', port: 8443 } });
  });

  it('names why it cannot: no container, not running, HTTPS off, no address', () => {
    const node = { name: 'n1', leases: [] };
    expect(agentEndpointOf(node, null, 'x')).toEqual({ ok: false, problem: 'node n1 has no container' });
    expect(agentEndpointOf(node, container({ state: 'stopped' }), 'x')).toEqual({ ok: false, problem: 'the container of node n1 is stopped' });
    expect(agentEndpointOf(node, container({ env: { REDFISH_PORT: 'none' } }), 'x')).toMatchObject({ ok: false, problem: expect.stringContaining('REDFISH_PORT=none') });
    expect(agentEndpointOf(node, container({ address: null, addresses: {} }), 'x')).toEqual({ ok: false, problem: 'the container of node n1 has no network address' });
  });
});

describe('agentCertificatePath', () => {
  it('is REDFISH_TLS_CERT when set, else redfish-cert.pem in BMC_STATE_DIR (/vm/bmc)', () => {
    expect(agentCertificatePath({})).toBe('/vm/bmc/redfish-cert.pem');
    expect(agentCertificatePath({ BMC_STATE_DIR: '/state/' })).toBe('/state/redfish-cert.pem');
    expect(agentCertificatePath({ REDFISH_TLS_CERT: '/certs/bmc.pem' })).toBe('/certs/bmc.pem');
  });
});
