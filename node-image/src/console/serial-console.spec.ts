import { Listeners } from '../machine/events';
import type { MachineControl, MachineEvents } from '../machine/machine-control';
import type { Principal } from '../redfish/router';
import { authenticateConsole, canType } from './console-auth';
import { CLOSE, MAX_VIEWER_BACKLOG_BYTES, SerialConsole } from './serial-console';
import { SerialHistory } from './serial-history';
import { RedfishError } from '../redfish/errors';

class SerialOnlyMachine {
  readonly events = new Listeners<MachineEvents>();
  readonly written: Buffer[] = [];
  on<E extends keyof MachineEvents>(e: E, l: MachineEvents[E]): () => void { return this.events.on(e, l); }
  writeSerial(d: Buffer): void { this.written.push(d); }
  output(text: string): void { this.events.emit('serial', Buffer.from(text)); }
}

class Viewer {
  readonly got: string[] = [];
  closed: { code: number; reason: string } | undefined;
  bufferedAmount = 0;
  send(d: Buffer): void { this.got.push(d.toString()); }
  close(code: number, reason: string): void { this.closed = { code, reason }; }
}

const as = (role: Principal['role'], userName: string = role): Principal => ({ userId: 2, userName, role, session: undefined });

describe('SerialConsole', () => {
  const setup = () => {
    const machine = new SerialOnlyMachine();
    const sut = new SerialConsole(machine as unknown as MachineControl, new SerialHistory(16));
    return { machine, sut };
  };

  it('gives a new viewer the history first, then the same live output as everyone', () => {
    const { machine, sut } = setup();
    machine.output('boot\r\n');
    const a = new Viewer();
    sut.attach(a, as('administrator'));
    machine.output('login: ');
    const b = new Viewer();
    sut.attach(b, as('read-only'));
    machine.output('x');
    expect(a.got).toEqual(['boot\r\n', 'login: ', 'x']);
    expect(b.got).toEqual(['boot\r\nlogin: ', 'x']);
    expect(sut.viewerCount).toBe(2);
  });

  it('passes typing of Operator and Administrator users to the serial port', () => {
    const { machine, sut } = setup();
    sut.attach(new Viewer(), as('operator')).input(Buffer.from('ls\r'));
    sut.attach(new Viewer(), as('administrator')).input(Buffer.from('id\r'));
    expect(machine.written.map(String)).toEqual(['ls\r', 'id\r']);
  });

  it('closes a ReadOnly viewer that types with 4403 and a reason, and writes nothing', () => {
    const { machine, sut } = setup();
    const v = new Viewer();
    sut.attach(v, as('read-only', 'viewer')).input(Buffer.from('reboot\r'));
    expect(machine.written).toEqual([]);
    expect(v.closed).toEqual({ code: CLOSE.inputRefused, reason: 'input refused: user viewer has the ReadOnly role; typing needs Operator or Administrator' });
    expect(sut.viewerCount).toBe(0);
  });

  it('closes a viewer that stopped reading instead of buffering without bound', () => {
    const { machine, sut } = setup();
    const slow = new Viewer();
    const fast = new Viewer();
    sut.attach(slow, as('administrator'));
    sut.attach(fast, as('administrator'));
    slow.bufferedAmount = MAX_VIEWER_BACKLOG_BYTES + 1;
    machine.output('more');
    expect(slow.closed?.code).toBe(CLOSE.tryAgainLater);
    expect(fast.got).toEqual(['more']);
  });

  it('stops sending to a detached viewer, and closes every viewer when the BMC stops', () => {
    const { machine, sut } = setup();
    const gone = new Viewer();
    sut.attach(gone, as('administrator')).detach();
    const stays = new Viewer();
    sut.attach(stays, as('administrator'));
    machine.output('y');
    expect(gone.got).toEqual([]);
    sut.close();
    expect(stays.closed?.code).toBe(CLOSE.goingAway);
    machine.output('z');
    expect(stays.got).toEqual(['y']);
  });
});

describe('console authentication decisions', () => {
  const principal = as('operator', 'oper');
  const auth = {
    basic: jest.fn((user: string, password: string) => { if (user === 'oper' && password === 'pw') return principal; throw new RedfishError(401, 'ResourceAtUriUnauthorized', 'no'); }),
    token: jest.fn((token: string) => { if (token === 'good') return principal; throw new RedfishError(401, 'NoValidSession', 'no'); }),
  };
  const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

  it('accepts Basic and X-Auth-Token (the token first), passing the client address for the lockout', () => {
    expect(authenticateConsole({ authorization: basic('oper:pw') }, '10.0.0.9', 5, auth)).toEqual({ ok: true, principal });
    expect(auth.basic).toHaveBeenLastCalledWith('oper', 'pw', '10.0.0.9', 5);
    expect(authenticateConsole({ 'x-auth-token': 'good', authorization: basic('oper:wrong') }, '', 5, auth)).toEqual({ ok: true, principal });
  });

  it('refuses with 401 and says what is missing or wrong', () => {
    expect(authenticateConsole({}, '', 0, auth)).toEqual({ ok: false, status: 401, message: 'credentials required: HTTP Basic or X-Auth-Token' });
    expect(authenticateConsole({ authorization: basic('oper:wrong') }, '', 0, auth)).toEqual({ ok: false, status: 401, message: 'invalid credentials' });
    expect(authenticateConsole({ 'x-auth-token': 'bad' }, '', 0, auth)).toEqual({ ok: false, status: 401, message: 'invalid credentials' });
    expect(authenticateConsole({ authorization: basic('nocolon') }, '', 0, auth).ok).toBe(false);
    expect(authenticateConsole({ authorization: 'Bearer x' }, '', 0, auth).ok).toBe(false);
  });

  it('lets Operator and Administrator type, not ReadOnly', () => {
    expect([canType('administrator'), canType('operator'), canType('read-only')]).toEqual([true, true, false]);
  });
});
