/**
 * UdpHub: many IpmiClients on one UDP socket, against BMCs of the agent's real session layer.
 */
import { createSocket } from 'node:dgram';
import { IpmiClient, IpmiClientErrorCode } from './ipmi-client';
import { UdpHub } from './udp-link';
import { startBmc, type TestBmc } from '../test-support/session-layer-bmc';

describe('UdpHub', () => {
  let hub: UdpHub;
  const bmcs: TestBmc[] = [];
  beforeEach(async () => { hub = await UdpHub.open(); });
  afterEach(async () => {
    await hub.close();
    await Promise.all(bmcs.splice(0).map((b) => b.close()));
  });

  it('carries sessions to several BMCs at once, each client getting only its own BMC\'s answers', async () => {
    for (let i = 0; i < 3; i++) bmcs.push(await startBmc());
    bmcs[1]!.power = true;
    const clients = await Promise.all(bmcs.map((b) => IpmiClient.connect({ hub, host: '127.0.0.1', port: b.port, user: 'admin', password: 'password' })));
    expect(hub.links).toBe(3);
    expect(await Promise.all(clients.map((c) => c.powerStatus()))).toEqual(['off', 'on', 'off']);
    for (const [i, b] of bmcs.entries()) expect(b.engine.listSessions().map((s) => s.bmcSessionId)).toEqual([clients[i]!.bmcSessionId]);
    await Promise.all(clients.map((c) => c.close()));
    expect(hub.links).toBe(0);
    for (const b of bmcs) expect(b.engine.listSessions()).toHaveLength(0);
    // The hub's socket stays open for the next clients.
    const again = await IpmiClient.connect({ hub, host: '127.0.0.1', port: bmcs[1]!.port, user: 'admin', password: 'password' });
    expect(await again.powerStatus()).toBe('on');
    await again.close();
  });

  it('refuses a host name and a second client for the same BMC, with the reason', async () => {
    bmcs.push(await startBmc());
    const first = await IpmiClient.connect({ hub, host: '127.0.0.1', port: bmcs[0]!.port, user: 'admin', password: 'password' });
    await expect(IpmiClient.connect({ hub, host: '127.0.0.1', port: bmcs[0]!.port, user: 'admin', password: 'password' }))
      .rejects.toMatchObject({ code: IpmiClientErrorCode.Socket, message: expect.stringContaining(`already has a client for 127.0.0.1:${bmcs[0]!.port}`) });
    await expect(IpmiClient.connect({ hub, host: 'localhost', port: bmcs[0]!.port, user: 'admin', password: 'password' }))
      .rejects.toMatchObject({ code: IpmiClientErrorCode.Socket, message: expect.stringContaining('needs an IPv4 address, not "localhost"') });
    expect(await first.powerStatus()).toBe('off');
    await first.close();
  });

  it('ignores datagrams from where no client is linked, and refuses links once closed', async () => {
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    bmcs.push(await startBmc());
    const client = await IpmiClient.connect({ hub, host: '127.0.0.1', port: bmcs[0]!.port, user: 'admin', password: 'password' });
    await new Promise<void>((r) => stranger.send(Buffer.from('06000ff', 'hex'), hub.port, '127.0.0.1', () => r()));
    expect(await client.powerStatus()).toBe('off');
    await client.close();
    await new Promise<void>((r) => stranger.close(() => r()));
    await hub.close();
    expect(() => hub.link('127.0.0.1', 623, () => {})).toThrow('the UDP hub is closed');
  });
});
