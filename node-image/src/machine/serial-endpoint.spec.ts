import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialEndpoint } from './serial-endpoint';

/** A QEMU-like client: connects to the endpoint and collects what it receives. */
async function qemu(path: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = createConnection(path);
  let text = '';
  socket.on('data', (d) => { text += d.toString('latin1'); });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  return { socket, received: () => text, closed };
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SerialEndpoint', () => {
  let dir: string;
  let path: string;
  const open: Array<{ close(): Promise<void> }> = [];
  const sockets: Socket[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'serial-spec-'));
    path = join(dir, 'serial.sock');
  });

  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    await Promise.all(open.splice(0).map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function listen(options = {}): Promise<SerialEndpoint> {
    const sut = await SerialEndpoint.listen(path, options);
    open.push(sut);
    return sut;
  }

  async function connect(): Promise<Awaited<ReturnType<typeof qemu>>> {
    const c = await qemu(path);
    sockets.push(c.socket);
    return c;
  }

  it('carries bytes both ways once QEMU connects', async () => {
    const sut = await listen();
    const seen: string[] = [];
    let connects = 0;
    sut.on('data', (d) => seen.push(d.toString('latin1')));
    sut.on('connect', () => connects++);
    expect(sut.connected).toBe(false);
    const vm = await connect();
    await waitFor(() => sut.connected);
    expect(connects).toBe(1);
    vm.socket.write('SeaBIOS\r\n');
    await waitFor(() => seen.join('') === 'SeaBIOS\r\n');
    expect(sut.write(Buffer.from('root\r'))).toBe(true);
    await waitFor(() => vm.received() === 'root\r');
  });

  it('drops writes while no QEMU is connected', async () => {
    const sut = await listen();
    expect(sut.write(Buffer.from('lost'))).toBe(false);
    expect(sut.droppedBytes).toBe(4);
  });

  it('lets a new connection replace the old one (a restarted QEMU)', async () => {
    const sut = await listen();
    const seen: string[] = [];
    let disconnects = 0;
    sut.on('data', (d) => seen.push(d.toString('latin1')));
    sut.on('disconnect', () => disconnects++);
    const first = await connect();
    await waitFor(() => sut.connectionCount === 1);
    const second = await connect();
    await waitFor(() => sut.connectionCount === 2);
    await first.closed;
    expect(disconnects).toBe(0);
    expect(sut.connected).toBe(true);
    second.socket.write('new');
    await waitFor(() => seen.join('') === 'new');
    sut.write(Buffer.from('to-second'));
    await waitFor(() => second.received() === 'to-second');
    expect(first.received()).toBe('');
  });

  it('reports a disconnect and drops writes afterwards', async () => {
    const sut = await listen();
    let disconnects = 0;
    sut.on('disconnect', () => disconnects++);
    const vm = await connect();
    await waitFor(() => sut.connected);
    vm.socket.destroy();
    await waitFor(() => disconnects === 1);
    expect(sut.connected).toBe(false);
    expect(sut.write(Buffer.from('x'))).toBe(false);
  });

  it('waits for the next connection, or gives up after the timeout', async () => {
    const sut = await listen();
    await expect(sut.waitForConnection(0, 30)).resolves.toBe(false);
    const waiting = sut.waitForConnection(0, 2000);
    await connect();
    await expect(waiting).resolves.toBe(true);
    // Already past: resolves at once.
    await expect(sut.waitForConnection(0, 10)).resolves.toBe(true);
    await expect(sut.waitForConnection(1, 30)).resolves.toBe(false);
  });

  it('drops writes beyond the pending limit instead of buffering without bound', async () => {
    const sut = await listen({ maxPendingBytes: 8 });
    await connect();
    await waitFor(() => sut.connected);
    expect(sut.write(Buffer.alloc(9))).toBe(false);
    expect(sut.droppedBytes).toBe(9);
    expect(sut.write(Buffer.alloc(8))).toBe(true);
  });

  it('replaces a stale socket file but never another kind of file', async () => {
    // An agent killed hard leaves its socket file behind (a clean close would remove it).
    const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`]);
    await new Promise((resolve) => dead.stdout.once('data', resolve));
    dead.kill('SIGKILL');
    await new Promise((resolve) => dead.once('exit', resolve));
    expect(lstatSync(path).isSocket()).toBe(true);
    writeFileSync(join(dir, 'keep'), 'data');
    const sut = await listen();
    expect(sut.connected).toBe(false);
    await connect();
    await waitFor(() => sut.connected);

    const notSocket = join(dir, 'keep');
    await expect(SerialEndpoint.listen(notSocket)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(existsSync(notSocket)).toBe(true);
  });

  it('close() drops the connection and removes the socket file', async () => {
    const sut = await SerialEndpoint.listen(path);
    const vm = await connect();
    await waitFor(() => sut.connected);
    await sut.close();
    await vm.closed;
    expect(existsSync(path)).toBe(false);
    await expect(sut.close()).resolves.toBeUndefined();
  });

  it('refuses a path longer than a unix socket address holds', async () => {
    await expect(SerialEndpoint.listen(join(dir, 'x'.repeat(120)))).rejects.toThrow(/longer than 107 bytes/);
  });
});
