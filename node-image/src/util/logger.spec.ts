import { batchedStderr, createLogger } from './logger';
import { namedLogger } from '../farm/named-logger';

describe('createLogger', () => {
  const capture = (debug = false) => {
    const lines: string[] = [];
    return { lines, log: createLogger({ debug, component: 'farm', write: (l) => lines.push(l) }) };
  };

  it('writes one JSON object per line: time, level, component, message, then the fields', () => {
    const { lines, log } = capture();
    log.info('session closed', { handle: 1, user: 'admin', gone: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\{"time":"\d{4}-\d\d-\d\dT[\d:.]+Z","level":"info","component":"farm","msg":"session closed","handle":1,"user":"admin"\}$/);
  });

  it('escapes messages and fields, and writes a line without fields', () => {
    const { lines, log } = capture();
    log.warn('a "quoted"\nmessage');
    log.error('x', {});
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'a "quoted"\nmessage' });
    expect(Object.keys(JSON.parse(lines[1]!))).toEqual(['time', 'level', 'component', 'msg']);
  });

  it('writes debug lines only when asked to', () => {
    const quiet = capture(false);
    quiet.log.debug('hidden');
    expect(quiet.lines).toEqual([]);
    const loud = capture(true);
    loud.log.debug('shown', { n: 2 });
    expect(JSON.parse(loud.lines[0]!)).toMatchObject({ level: 'debug', msg: 'shown', n: 2 });
  });

  it('adds a named BMC\'s fields to each of its lines; a line\'s own field of the same name wins', () => {
    const { lines, log } = capture();
    const bmc = namedLogger(log, { bmc: 'farm-7', endpoint: '127.1.0.8:623' });
    bmc.info('BMC listening', { port: 623 });
    bmc.info('moved', { endpoint: 'elsewhere' });
    expect(lines[0]).toContain('"msg":"BMC listening","bmc":"farm-7","endpoint":"127.1.0.8:623","port":623}');
    expect(JSON.parse(lines[1]!)).toMatchObject({ bmc: 'farm-7', endpoint: 'elsewhere' });
  });

  it('names the BMC over any other logger too', () => {
    const seen: Array<[string, Record<string, unknown> | undefined]> = [];
    const other = { debug: () => {}, info: (m: string, f?: Record<string, unknown>) => { seen.push([m, f]); }, warn: () => {}, error: () => {} };
    namedLogger(other, { bmc: 'farm-1' }).info('hello', { a: 1 });
    expect(seen).toEqual([['hello', { bmc: 'farm-1', a: 1 }]]);
  });
});

describe('batchedStderr', () => {
  it('writes the lines of one event-loop turn in one write, in order, and nothing when there were none', async () => {
    const writes: string[] = [];
    const line = batchedStderr((t) => writes.push(t));
    line('a');
    line('b');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n']);
    line('c');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes what is left when the process exits', () => {
    const writes: string[] = [];
    const line = batchedStderr((t) => writes.push(t));
    line('last words');
    process.emit('exit', 0);
    expect(writes).toEqual(['last words\n']);
  });
});
