import { fleetLocationOf, fleetUriOf, rewriteNodeBody, routeFleetPath } from './fleet-paths';
import { callerAuthOf, credentialsMatch } from './fleet-credentials';

const ID = '3f2c7a1e-0b9d-4c55-8d2e-9a7b6c5d4e3f';

describe('routeFleetPath', () => {
  it.each([
    ['/redfish', { kind: 'versions' }],
    ['/redfish/v1', { kind: 'root' }],
    ['/redfish/v1/', { kind: 'root' }],
    ['/redfish/v1/odata', { kind: 'odata' }],
    ['/redfish/v1/$metadata', { kind: 'metadata' }],
    ['/redfish/v1/SessionService', { kind: 'sessionService' }],
    ['/redfish/v1/SessionService/Sessions/', { kind: 'sessions' }],
    ['/redfish/v1/SessionService/Sessions/ab12', { kind: 'session', id: 'ab12' }],
    ['/redfish/v1/Systems', { kind: 'collection', collection: 'Systems' }],
    ['/redfish/v1/Chassis/', { kind: 'collection', collection: 'Chassis' }],
    [`/redfish/v1/Systems/${ID}`, { kind: 'node', nodeId: ID, collection: 'Systems', nodePath: '/redfish/v1/Systems/1' }],
    [`/redfish/v1/Systems/${ID}/Actions/ComputerSystem.Reset`, { kind: 'node', nodeId: ID, collection: 'Systems', nodePath: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset' }],
    [`/redfish/v1/Managers/${ID}/LogServices/SEL/Entries/7`, { kind: 'node', nodeId: ID, collection: 'Managers', nodePath: '/redfish/v1/Managers/1/LogServices/SEL/Entries/7' }],
    [`/redfish/v1/Chassis/${ID}/`, { kind: 'node', nodeId: ID, collection: 'Chassis', nodePath: '/redfish/v1/Chassis/1' }],
  ])('routes %s', (path, route) => {
    expect(routeFleetPath(path)).toEqual(route);
  });

  it.each([
    'redfish/v1',
    '/redfish/v2/Systems',
    '/redfish/v1/AccountService',
    '/redfish/v1/Systems/..',
    `/redfish/v1/Systems/${ID}/..`,
    `/redfish/v1/Systems/${ID}/%2e%2e/%2e%2e/Managers/1`,
    `/redfish/v1/Systems/${ID}/a%2Fb`,
    '/redfish/v1/Systems/not%20an%20id',
    '/redfish/v1/Systems/x%zz',
    `/redfish/v1/Systems/${ID}//Bios`,
    '/redfish/v1/SessionService/Sessions/a/b',
  ])('names nothing for %s (never a path a node did not publish)', (path) => {
    expect(routeFleetPath(path)).toEqual({ kind: 'not-found' });
  });
});

describe('rewriting a node\'s URIs into the fleet\'s', () => {
  it('maps the node\'s system, manager and chassis and everything below them, and nothing else', () => {
    expect(fleetUriOf('/redfish/v1/Systems/1', ID)).toBe(`/redfish/v1/Systems/${ID}`);
    expect(fleetUriOf('/redfish/v1/Managers/1/LogServices/SEL', ID)).toBe(`/redfish/v1/Managers/${ID}/LogServices/SEL`);
    expect(fleetUriOf('/redfish/v1/Chassis/1#/Thermal', ID)).toBe(`/redfish/v1/Chassis/${ID}#/Thermal`);
    expect(fleetUriOf('/redfish/v1/Systems/10', ID)).toBe('/redfish/v1/Systems/10');
    expect(fleetUriOf('/redfish/v1/Systems', ID)).toBe('/redfish/v1/Systems');
    expect(fleetUriOf('/redfish/v1/SessionService', ID)).toBe('/redfish/v1/SessionService');
    expect(fleetUriOf('Systems/1', ID)).toBe('Systems/1');
  });

  it('maps a Location header, absolute or a path', () => {
    expect(fleetLocationOf('https://127.0.0.1:17000/redfish/v1/Managers/1/LogServices/SEL/Entries/3', ID)).toBe(`/redfish/v1/Managers/${ID}/LogServices/SEL/Entries/3`);
    expect(fleetLocationOf('/redfish/v1/Systems/1', ID)).toBe(`/redfish/v1/Systems/${ID}`);
  });

  it('rewrites every link of a body and the Id of the member itself, leaving other values alone', () => {
    const system = {
      '@odata.id': '/redfish/v1/Systems/1',
      '@odata.etag': 'W/"0123456789abcdef"',
      Id: '1',
      Name: 'node1',
      Links: { ManagedBy: [{ '@odata.id': '/redfish/v1/Managers/1' }], Chassis: [{ '@odata.id': '/redfish/v1/Chassis/1' }] },
      Actions: { '#ComputerSystem.Reset': { target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', 'ResetType@Redfish.AllowableValues': ['On'] } },
      ProcessorSummary: { Count: 1 },
      Boot: { BootSourceOverrideTarget: 'Pxe' },
    };
    expect(rewriteNodeBody(system, ID)).toEqual({
      ...system,
      '@odata.id': `/redfish/v1/Systems/${ID}`,
      Id: ID,
      Links: { ManagedBy: [{ '@odata.id': `/redfish/v1/Managers/${ID}` }], Chassis: [{ '@odata.id': `/redfish/v1/Chassis/${ID}` }] },
      Actions: { '#ComputerSystem.Reset': { target: `/redfish/v1/Systems/${ID}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': ['On'] } },
    });
    // A resource below the member keeps its own Id.
    expect(rewriteNodeBody({ '@odata.id': '/redfish/v1/Managers/1/LogServices/SEL', Id: 'SEL' }, ID)).toEqual({ '@odata.id': `/redfish/v1/Managers/${ID}/LogServices/SEL`, Id: 'SEL' });
  });
});

describe('fleet credentials', () => {
  const basic = (text: string) => ({ authorization: `Basic ${Buffer.from(text).toString('base64')}` });

  it('reads Basic (a password may hold colons) and X-Auth-Token, Basic first', () => {
    expect(callerAuthOf(basic('admin:pa:ss'))).toEqual({ kind: 'basic', credentials: { user: 'admin', password: 'pa:ss' } });
    expect(callerAuthOf({ 'x-auth-token': 'abc' })).toEqual({ kind: 'token', token: 'abc' });
    expect(callerAuthOf({ ...basic('a:b'), 'x-auth-token': 'abc' })).toMatchObject({ kind: 'basic' });
    expect(callerAuthOf({})).toEqual({ kind: 'none' });
    expect(callerAuthOf({ authorization: 'Bearer xyz' })).toEqual({ kind: 'malformed' });
    expect(callerAuthOf(basic('no-colon'))).toEqual({ kind: 'malformed' });
  });

  it('matches user and password exactly', () => {
    const node = { user: 'admin', password: 's3cret-pass' };
    expect(credentialsMatch({ user: 'admin', password: 's3cret-pass' }, node)).toBe(true);
    expect(credentialsMatch({ user: 'admin', password: 's3cret-pas' }, node)).toBe(false);
    expect(credentialsMatch({ user: 'Admin', password: 's3cret-pass' }, node)).toBe(false);
  });
});
