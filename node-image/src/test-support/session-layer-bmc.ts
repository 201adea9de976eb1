/**
 * A BMC for client tests: the agent's real session layer (BmcEngine + application commands) on a
 * loopback UDP socket, with a scripted chassis. Its handler can drop or alter datagrams to exercise
 * retries, timeouts and integrity failures.
 */
import { createSocket, Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { BmcEngine, DEFAULT_ENGINE_CONFIG } from '../bmc/bmc-engine';
import { Dispatcher } from '../bmc/dispatcher';
import { appCommands } from '../bmc/commands/app-commands';
import { CommandDefinition, fail, ok } from '../bmc/commands/command-types';
import type { SessionUser, UserAuthority } from '../bmc/session/session-types';
import { UdpServer } from '../transport/udp-server';
import { parseCipherSuiteList } from '../protocol/crypto/cipher-suites';
import { CompletionCode, Privilege } from '../protocol/errors';
import { ChassisCmd, NetFn } from '../protocol/netfn';
import { silentLogger } from '../util/logger';

export class TestUsers implements UserAuthority {
  failures = 0;
  constructor(private readonly users: SessionUser[]) {}
  findByName(name: Buffer): SessionUser | undefined { return this.users.find((u) => Buffer.from(u.name, 'latin1').equals(name)); }
  channelPrivilegeLimit(): number { return Privilege.Administrator; }
  checkLogin(): { allowed: boolean } { return { allowed: true }; }
  recordFailure(): void { this.failures++; }
  recordSuccess(): void {}
}

/** What the handler does with the next inbound datagram. */
export type Filter = (datagram: Buffer) => 'pass' | 'drop';

export interface TestBmc {
  readonly engine: BmcEngine;
  readonly users: TestUsers;
  readonly port: number;
  power: boolean;
  inbound: Filter;
  /** Rewrites the BMC's outbound datagrams (e.g. to corrupt one). */
  outbound: (d: Buffer) => Buffer;
  readonly received: Buffer[];
  close(): Promise<void>;
}

export async function startBmc(suites = '3,17'): Promise<TestBmc> {
  const guid = randomBytes(16);
  const users = new TestUsers([{ id: 2, name: 'admin', password: Buffer.from('password') }]);
  const dispatcher = new Dispatcher(silentLogger);
  const server = new UdpServer(silentLogger);
  const bmc = {
    users,
    power: false,
    inbound: (() => 'pass') as Filter,
    outbound: (d: Buffer) => d,
    received: [] as Buffer[],
  } as TestBmc & { engine: BmcEngine; port: number };
  const engine = new BmcEngine({
    config: { ...DEFAULT_ENGINE_CONFIG, cipherSuites: parseCipherSuiteList(suites) },
    users,
    guid: () => guid,
    random: (n) => randomBytes(n),
    send: (d, to) => server.send(bmc.outbound(d), to),
    dispatcher,
    log: silentLogger,
  });
  const chassis: CommandDefinition[] = [
    {
      netFn: NetFn.Chassis, cmd: ChassisCmd.GetChassisStatus, name: 'Get Chassis Status', privilege: Privilege.User,
      handler: () => ok(Buffer.from([bmc.power ? 0x01 : 0x00, 0x00, 0x00])),
    },
    {
      netFn: NetFn.Chassis, cmd: ChassisCmd.ChassisControl, name: 'Chassis Control', privilege: Privilege.Operator,
      handler: (data) => {
        if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
        if (data[0] === 0x04) return fail(CompletionCode.NotSupportedInPresentState); // diag: refused here
        bmc.power = data[0] !== 0x00 && data[0] !== 0x05;
        return ok();
      },
    },
  ];
  dispatcher.register(appCommands({ sessions: engine, identity: { systemGuid: guid, deviceGuid: guid }, onReset: () => {} })).register(chassis);
  const bound = await server.listen('127.0.0.1', 0, async (data, from) => {
    bmc.received.push(data);
    if (bmc.inbound(data) === 'drop') return;
    await engine.handleDatagram(data, from, Date.now());
  });
  Object.assign(bmc, { engine, port: bound.port, close: () => server.close() });
  return bmc;
}

/** A UDP socket that never answers: a BMC that is down but whose port is not refused. */
export async function silentPort(): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

