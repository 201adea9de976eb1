import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient, QmpError, QmpErrorCode, type QmpEvent } from './qmp-client';

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] } };
const EVENT_SHUTDOWN = { timestamp: { seconds: 1700000000, microseconds: 42 }, event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } };

/** One scripted QMP peer: what the client wrote, line by line, and a way to answer. */
class Peer {
  private buffer = '';
  private readonly waiting: Array<(line: Record<string, unknown>) => void> = [];
  private readonly lines: Array<Record<string, unknown>> = [];
  constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buffer += d.toString('utf8');
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(this.buffer.slice(0, i)) as Record<string, unknown>;
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line); else this.lines.push(line);
      }
    });
  }
  /** The next message the client sent. */
  next(): Promise<Record<string, unknown>> {
    const l = this.lines.shift();
    if (l) return Promise.resolve(l);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  send(message: unknown): void { this.raw(JSON.stringify(message) + '\r\n'); }
  raw(text: string | Buffer): void { this.socket.write(text); }
  /** Greets and accepts qmp_capabilities. */
  async handshake(): Promise<void> {
    this.send(GREETING);
    const caps = await this.next();
    expect(caps['execute']).toBe('qmp_capabilities');
    this.send({ return: {}, id: caps['id'] });
  }
}

describe('QmpClient', () => {
  let dir: string;
  let path: string;
  let server: Server;
  let peers: Peer[];
  let nextPeer: Array<(p: Peer) => void>;
  const clients: QmpClient[] = [];

  const peer = (): Promise<Peer> => {
    const p = peers.shift();
    if (p) return Promise.resolve(p);
    return new Promise((resolve) => nextPeer.push(resolve));
  };

  /** Connects a client while the peer completes the handshake. */
  async function connected(options = {}): Promise<{ sut: QmpClient; qemu: Peer }> {
    const connecting = QmpClient.connect(path, options);
    const qemu = await peer();
    await qemu.handshake();
    const sut = await connecting;
    clients.push(sut);
    return { sut, qemu };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qmp-spec-'));
    path = join(dir, 'qmp.sock');
    peers = [];
    nextPeer = [];
    server = createServer((socket) => {
      const p = new Peer(socket);
      const w = nextPeer.shift();
      if (w) w(p); else peers.push(p);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('handshake', () => {
    it('reads the greeting, negotiates capabilities and exposes the greeting', async () => {
      const connecting = QmpClient.connect(path);
      const qemu = await peer();
      qemu.send(GREETING);
      const caps = await qemu.next();
      expect(caps).toEqual({ execute: 'qmp_capabilities', id: expect.any(String) });
      qemu.send({ return: {}, id: caps['id'] });
      const sut = await connecting;
      clients.push(sut);
      expect(sut.connected).toBe(true);
      expect(sut.greeting.version.qemu).toEqual({ major: 7, minor: 2, micro: 22 });
      expect(sut.greeting.capabilities).toEqual(['oob']);
    });

    it('fails in the connect phase when nothing listens on the path', async () => {
      const err = await QmpClient.connect(join(dir, 'absent.sock')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QmpError);
      expect((err as QmpError).code).toBe(QmpErrorCode.Connect);
      expect((err as QmpError).details.errno).toBe('ENOENT');
    });

    it('fails in the greeting phase when the first message is not a greeting', async () => {
      const connecting = QmpClient.connect(path);
      (await peer()).send({ return: {}, id: 'x' });
      await expect(connecting).rejects.toMatchObject({ code: QmpErrorCode.Greeting });
    });

    it('fails in the greeting phase when the peer hangs up before greeting', async () => {
      const connecting = QmpClient.connect(path);
      (await peer()).socket.end();
      await expect(connecting).rejects.toMatchObject({ code: QmpErrorCode.Greeting, message: expect.stringMatching(/closed/) });
    });

    it('fails in the greeting phase on malformed JSON', async () => {
      const connecting = QmpClient.connect(path);
      (await peer()).raw('{"QMP": nope}\n');
      await expect(connecting).rejects.toMatchObject({ code: QmpErrorCode.Greeting, message: expect.stringMatching(/malformed JSON/) });
    });

    it('fails in the greeting phase when no greeting arrives in time', async () => {
      const connecting = QmpClient.connect(path, { handshakeTimeoutMs: 100 });
      await peer();
      await expect(connecting).rejects.toMatchObject({ code: QmpErrorCode.Greeting, message: expect.stringMatching(/no greeting within 100 ms/) });
    });

    it('fails in the negotiation phase with QEMU\'s class and description', async () => {
      const connecting = QmpClient.connect(path);
      const qemu = await peer();
      qemu.send(GREETING);
      const caps = await qemu.next();
      qemu.send({ error: { class: 'GenericError', desc: 'Capability negotiation is already complete' }, id: caps['id'] });
      const err = (await connecting.catch((e: unknown) => e)) as QmpError;
      expect(err.code).toBe(QmpErrorCode.Negotiation);
      expect(err.errorClass).toBe('GenericError');
      expect(err.desc).toBe('Capability negotiation is already complete');
    });

    it('fails in the negotiation phase when the peer hangs up during it', async () => {
      const connecting = QmpClient.connect(path);
      const qemu = await peer();
      qemu.send(GREETING);
      await qemu.next();
      qemu.socket.destroy();
      await expect(connecting).rejects.toMatchObject({ code: QmpErrorCode.Negotiation });
    });
  });

  describe('execute', () => {
    it('sends command, arguments and a fresh id, and resolves with the return value', async () => {
      const { sut, qemu } = await connected();
      const call = sut.execute('qom-set', { path: '/machine/peripheral/disk0', property: 'bootindex', value: 0 });
      const sent = await qemu.next();
      expect(sent).toEqual({ execute: 'qom-set', arguments: { path: '/machine/peripheral/disk0', property: 'bootindex', value: 0 }, id: expect.any(String) });
      qemu.send({ return: {}, id: sent['id'] });
      await expect(call).resolves.toEqual({});

      const status = sut.execute('query-status');
      const sent2 = await qemu.next();
      expect(sent2).toEqual({ execute: 'query-status', id: expect.any(String) });
      expect(sent2['id']).not.toBe(sent['id']);
      qemu.send({ return: { status: 'running', running: true }, id: sent2['id'] });
      await expect(status).resolves.toEqual({ status: 'running', running: true });
    });

    it('matches out-of-order replies by id', async () => {
      const { sut, qemu } = await connected();
      const a = sut.execute('query-status');
      const b = sut.execute('query-name');
      const c = sut.execute('query-version');
      const [ma, mb, mc] = [await qemu.next(), await qemu.next(), await qemu.next()];
      qemu.send({ return: 'C', id: mc['id'] });
      qemu.send({ return: 'A', id: ma['id'] });
      qemu.send({ return: 'B', id: mb['id'] });
      await expect(Promise.all([a, b, c])).resolves.toEqual(['A', 'B', 'C']);
    });

    it('rejects with code execute carrying QEMU\'s error class and description', async () => {
      const { sut, qemu } = await connected();
      const call = sut.execute('bogus');
      const m = await qemu.next();
      qemu.send({ error: { class: 'CommandNotFound', desc: 'The command bogus has not been found' }, id: m['id'] });
      const err = (await call.catch((e: unknown) => e)) as QmpError;
      expect(err).toBeInstanceOf(QmpError);
      expect(err.code).toBe(QmpErrorCode.Execute);
      expect(err.errorClass).toBe('CommandNotFound');
      expect(err.desc).toBe('The command bogus has not been found');
      expect(err.details.command).toBe('bogus');
      expect(sut.connected).toBe(true);
    });

    it('delivers interleaved events to event listeners only', async () => {
      const { sut, qemu } = await connected();
      const events: QmpEvent[] = [];
      sut.on('event', (e) => events.push(e));
      const call = sut.execute('system_powerdown');
      const m = await qemu.next();
      qemu.raw(JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: 'POWERDOWN' }) + '\r\n'
        + JSON.stringify({ return: {}, id: m['id'] }) + '\r\n'
        + JSON.stringify(EVENT_SHUTDOWN) + '\r\n');
      await expect(call).resolves.toEqual({});
      await waitFor(() => events.length === 2);
      expect(events).toEqual([
        { event: 'POWERDOWN', data: {}, timestamp: { seconds: 1, microseconds: 2 } },
        { event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' }, timestamp: { seconds: 1700000000, microseconds: 42 } },
      ]);
    });

    it('reassembles lines split across writes and splits several lines in one write', async () => {
      const { sut, qemu } = await connected();
      const a = sut.execute('a');
      const b = sut.execute('b');
      const [ma, mb] = [await qemu.next(), await qemu.next()];
      const text = JSON.stringify({ return: 1, id: ma['id'] }) + '\r\n' + JSON.stringify({ return: 2, id: mb['id'] }) + '\r\n';
      for (const ch of text) {
        qemu.raw(ch);
        await new Promise((r) => setImmediate(r));
      }
      await expect(Promise.all([a, b])).resolves.toEqual([1, 2]);
    });

    it('drops a reply with an unknown id and keeps going', async () => {
      const { sut, qemu } = await connected();
      const call = sut.execute('query-status');
      const m = await qemu.next();
      qemu.send({ return: 'stray', id: 'someone-else' });
      qemu.send({ return: 'mine', id: m['id'] });
      await expect(call).resolves.toBe('mine');
      expect(sut.connected).toBe(true);
    });

    it('times out a call after its limit; the late reply is dropped and the client stays usable', async () => {
      const { sut, qemu } = await connected();
      const slow = sut.execute('query-status', undefined, { timeoutMs: 50 });
      const m = await qemu.next();
      await expect(slow).rejects.toMatchObject({ code: QmpErrorCode.Timeout, details: { command: 'query-status' } });
      qemu.send({ return: 'late', id: m['id'] });
      const next = sut.execute('query-name');
      const m2 = await qemu.next();
      qemu.send({ return: 'ok', id: m2['id'] });
      await expect(next).resolves.toBe('ok');
    });

    it('uses the client-wide default time limit', async () => {
      const { sut } = await connected({ timeoutMs: 40 });
      await expect(sut.execute('query-status')).rejects.toMatchObject({ code: QmpErrorCode.Timeout });
    });
  });

  describe('disconnects', () => {
    it('rejects every pending call as interrupted when QEMU hangs up, emits disconnect once', async () => {
      const { sut, qemu } = await connected();
      const reasons: QmpError[] = [];
      sut.on('disconnect', (r) => reasons.push(r));
      const a = sut.execute('query-status');
      const b = sut.execute('cont');
      await qemu.next();
      await qemu.next();
      qemu.socket.destroy();
      await expect(a).rejects.toMatchObject({ code: QmpErrorCode.Interrupted, details: { command: 'query-status' } });
      await expect(b).rejects.toMatchObject({ code: QmpErrorCode.Interrupted, details: { command: 'cont' } });
      await waitFor(() => reasons.length > 0);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]!.code).toBe(QmpErrorCode.Interrupted);
      expect(sut.connected).toBe(false);
      await expect(sut.execute('query-status')).rejects.toMatchObject({ code: QmpErrorCode.NotConnected });
    });

    it('closes on a line longer than the cap (no newline yet), rejecting pending calls', async () => {
      const { sut, qemu } = await connected({ maxLineBytes: 1024 });
      const reasons: QmpError[] = [];
      sut.on('disconnect', (r) => reasons.push(r));
      const call = sut.execute('query-qmp-schema');
      await qemu.next();
      qemu.raw('{"return": "' + 'x'.repeat(2000));
      await expect(call).rejects.toMatchObject({ code: QmpErrorCode.Interrupted, message: expect.stringMatching(/longer than 1024 bytes/) });
      expect(reasons[0]).toMatchObject({ code: QmpErrorCode.Protocol });
    });

    it('closes on a complete line longer than the cap', async () => {
      // The cap must leave room for the greeting (~150 bytes).
      const { sut, qemu } = await connected({ maxLineBytes: 300 });
      const call = sut.execute('x');
      const m = await qemu.next();
      qemu.send({ return: 'y'.repeat(400), id: m['id'] });
      await expect(call).rejects.toMatchObject({ code: QmpErrorCode.Interrupted });
      expect(sut.connected).toBe(false);
    });

    it('accepts a line exactly at the cap', async () => {
      const cap = 300;
      const { sut, qemu } = await connected({ maxLineBytes: cap });
      const call = sut.execute('x');
      const m = await qemu.next();
      const head = `{"id":${JSON.stringify(m['id'])},"return":"`;
      const line = head + 'z'.repeat(cap - head.length - 2) + '"}';
      expect(Buffer.byteLength(line)).toBe(cap);
      qemu.raw(line + '\n');
      await expect(call).resolves.toBe('z'.repeat(cap - head.length - 2));
    });

    it('closes on malformed JSON', async () => {
      const { sut, qemu } = await connected();
      const reasons: QmpError[] = [];
      sut.on('disconnect', (r) => reasons.push(r));
      const call = sut.execute('query-status');
      await qemu.next();
      qemu.raw('{"return": {"status": \n');
      await expect(call).rejects.toMatchObject({ code: QmpErrorCode.Interrupted });
      expect(reasons[0]).toMatchObject({ code: QmpErrorCode.Protocol, message: expect.stringMatching(/malformed JSON/) });
    });

    it('closes on a reply without id (QEMU could not parse a request)', async () => {
      const { sut, qemu } = await connected();
      const reasons: QmpError[] = [];
      sut.on('disconnect', (r) => reasons.push(r));
      const call = sut.execute('query-status');
      await qemu.next();
      qemu.send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
      await expect(call).rejects.toMatchObject({ code: QmpErrorCode.Interrupted });
      expect(reasons[0]).toMatchObject({ code: QmpErrorCode.Protocol, message: expect.stringMatching(/without id: GenericError: JSON parse error/) });
    });

    it('closes on a JSON value that is not an object', async () => {
      const { sut, qemu } = await connected();
      qemu.raw('[1,2]\n');
      await waitFor(() => !sut.connected);
    });

    it('close() rejects pending calls as interrupted and resolves', async () => {
      const { sut, qemu } = await connected();
      const call = sut.execute('query-status').catch((e: unknown) => { throw e; });
      const settled = call.then(() => 'resolved', (e: unknown) => e);
      await qemu.next();
      await sut.close();
      await expect(settled).resolves.toMatchObject({ code: QmpErrorCode.Interrupted, message: expect.stringMatching(/closed by the client/) });
      await expect(call).rejects.toMatchObject({ code: QmpErrorCode.Interrupted, message: expect.stringMatching(/closed by the client/) });
      await expect(sut.close()).resolves.toBeUndefined();
    });

    it('survives an event listener that throws', async () => {
      const { sut, qemu } = await connected();
      sut.on('event', () => { throw new Error('listener bug'); });
      const seen: string[] = [];
      sut.on('event', (e) => seen.push(e.event));
      qemu.send(EVENT_SHUTDOWN);
      const call = sut.execute('query-status');
      const m = await qemu.next();
      qemu.send({ return: 'ok', id: m['id'] });
      await expect(call).resolves.toBe('ok');
      expect(sut.connected).toBe(true);
    });
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
