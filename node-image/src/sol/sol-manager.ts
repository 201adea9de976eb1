/**
 * Serial over LAN in the session layer (IPMI v2.0 sections 24.1–24.5 and chapter 15; reference 8):
 * the payload commands (Activate/Deactivate Payload, Get Payload Activation Status, Get Payload
 * Instance Info, Get Channel Payload Support/Version) and the bridge between the one active
 * SolChannel, its RMCP+ session and the machine's serial port.
 *
 * The machine's serial stream belongs to the BMC, not to QEMU: the SOL session outlives power
 * cycles because the machine re-emits its console through the same 'serial' event.
 */
import { CompletionCode, Privilege, ProtocolError } from '../protocol/errors';
import { AppCmd, NetFn, PayloadType, TransportCmd } from '../protocol/netfn';
import { BMC_SLAVE_ADDRESS, encodeIpmiRequest, REMOTE_CONSOLE_SWID } from '../protocol/ipmi-message';
import { decodeSolPacket, encodeSolPacket } from '../protocol/sol-packet';
import { encodeActivatePayloadResponse, NO_VLAN } from '../protocol/activate-payload';
import { ByteWriter } from '../protocol/wire/byte-writer';
import type { CommandDefinition, CommandResult } from '../bmc/commands/command-types';
import { fail, isThisChannel, ok } from '../bmc/commands/command-types';
import type { BmcEngine, PayloadSink, SessionEndReason } from '../bmc/bmc-engine';
import type { EstablishedSession, RmcpPlusSession } from '../bmc/session/session-types';
import type { MachineControl } from '../machine/machine-control';
import type { Logger } from '../util/logger';
import { SolChannel, SolEffect } from './sol-channel';
import type { SolConfig } from './sol-config';

/** Activate Payload completion codes (table 24-2). */
export const ActivatePayloadCode = {
  AlreadyActive: 0x80,
  PayloadDisabled: 0x81,
  ActivationLimit: 0x82,
  CannotActivateWithEncryption: 0x83,
  CannotActivateWithoutEncryption: 0x84,
} as const;

/** Deactivate Payload completion codes (table 24-3). */
export const DeactivatePayloadCode = { AlreadyDeactivated: 0x80, PayloadDisabled: 0x81 } as const;

const SOL_INSTANCE = 1;
const SOL_INSTANCE_CAPACITY = 1;
const AUX_ENCRYPTION = 0x80;
const AUX_AUTHENTICATION = 0x40;
/** Largest SOL payload each way, header included: keeps an encrypted packet far below the MTU. */
export const SOL_PAYLOAD_SIZE = 200;
/** Standard payload types supported: IPMI (bit 0) and SOL (bit 1); session setup 0x10–0x15. */
const CHANNEL_PAYLOAD_SUPPORT = Buffer.from([0x03, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00]);
const PAYLOAD_VERSION_1_0 = 0x10;
/** SOL Activating (NetFn 0x0C cmd 0x20) data: deactivated, instance 1, SOL version 1.0. */
const SOL_ACTIVATING_DEACTIVATED = Buffer.from([0x00, 0x01, 0x01, 0x00]);

export interface SolUsers {
  get(id: number): { readonly access: { readonly solPayload: boolean } } | undefined;
}

export interface SolManagerDeps {
  readonly engine: BmcEngine;
  readonly machine: MachineControl;
  readonly config: SolConfig;
  readonly users: SolUsers;
  readonly clock: () => number;
  readonly log: Logger;
  /**
   * The UDP port Activate Payload names for SOL: IPMI_SOL_PORT when set (the port clients reach the
   * BMC on, e.g. a published host port), else the port the agent listens on.
   */
  readonly solPort: () => number;
}

interface ActiveSol {
  readonly session: RmcpPlusSession;
  readonly channel: SolChannel;
}

export class SolManager implements PayloadSink {
  private active: ActiveSol | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  private unsolicitedSeq = 0;

  constructor(private readonly deps: SolManagerDeps) {
    deps.engine.attachPayloadSink(this);
    this.unsubscribe.push(deps.machine.on('serial', (data) => {
      const a = this.active;
      if (a) this.run(a, a.channel.hostOutput(data, this.deps.clock()));
    }));
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.active = null;
  }

  get activeSessionId(): number | null { return this.active?.session.bmcSessionId ?? null; }

  // ------------------------------------------------------------ engine callbacks

  onSolPayload(session: RmcpPlusSession, payload: Buffer, now: number): void {
    const a = this.active;
    if (!a || a.session.bmcSessionId !== session.bmcSessionId) return; // no SOL on this session: ignore
    try {
      this.run(a, a.channel.consolePacket(decodeSolPacket(payload), now));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.deps.log.debug('malformed SOL packet dropped', { error: err.message });
    }
  }

  onSessionClosed(session: EstablishedSession, reason: SessionEndReason, now: number): void {
    const a = this.active;
    if (!a || a.session.bmcSessionId !== session.bmcSessionId) return;
    if (reason !== 'closed') this.tellOwnerSolEnded(a);
    this.active = null;
    this.deps.log.info('SOL deactivated', { reason, handle: session.handle, at: now });
  }

  /** The BMC ends SOL on its own (a fault rule): the owner is told, its IPMI session stays. */
  deactivateByBmc(now: number): void {
    const a = this.active;
    if (!a) return;
    this.tellOwnerSolEnded(a);
    this.active = null;
    this.deps.log.info('SOL deactivated', { reason: 'by the BMC', handle: a.session.handle, at: now });
  }

  tick(now: number): void {
    const a = this.active;
    if (!a) return;
    const deadline = a.channel.nextDeadline();
    if (deadline !== undefined && deadline <= now) this.run(a, a.channel.tick(now));
  }

  private run(a: ActiveSol, effects: SolEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send': this.deps.engine.sendPayload(a.session, PayloadType.Sol, encodeSolPacket(e.packet)); break;
        case 'deliver': this.deps.machine.writeSerial(e.data); break;
        case 'break': this.deps.machine.sendBreak(); break;
        case 'packet-dropped': this.deps.log.debug('SOL packet unacknowledged after all retries', { characters: e.characters }); break;
        case 'flush-inbound': break; // keystrokes are written through at once; nothing is queued
      }
    }
  }

  /** The owner loses SOL: a "deactivating" packet, then the unsolicited SOL Activating message (reference 8.6). */
  private tellOwnerSolEnded(a: ActiveSol): void {
    this.run(a, a.channel.deactivate());
    this.unsolicitedSeq = (this.unsolicitedSeq + 1) & 0x3f;
    const msg = encodeIpmiRequest({
      rsAddr: REMOTE_CONSOLE_SWID, netFn: NetFn.Transport, rsLun: 0, rqAddr: BMC_SLAVE_ADDRESS,
      rqSeq: this.unsolicitedSeq, rqLun: 0, cmd: TransportCmd.SolActivating, data: SOL_ACTIVATING_DEACTIVATED,
    });
    this.deps.engine.sendPayload(a.session, PayloadType.Ipmi, msg);
  }

  // ------------------------------------------------------------ commands

  commands(): CommandDefinition[] {
    return [
      { netFn: NetFn.App, cmd: AppCmd.ActivatePayload, name: 'Activate Payload', privilege: Privilege.User, handler: (d, ctx) => this.activate(d, ctx.session.id, ctx.session.privilege, ctx.session.userId, ctx.now) },
      { netFn: NetFn.App, cmd: AppCmd.DeactivatePayload, name: 'Deactivate Payload', privilege: Privilege.User, handler: (d, ctx) => this.deactivate(d, ctx.session.id, ctx.session.privilege, ctx.now) },
      {
        netFn: NetFn.App, cmd: AppCmd.GetPayloadActivationStatus, name: 'Get Payload Activation Status', privilege: Privilege.User,
        handler: (d) => {
          if (d.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
          if (d[0] !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
          return ok(Buffer.from([SOL_INSTANCE_CAPACITY, this.active ? 0x01 : 0x00, 0x00]));
        },
      },
      {
        netFn: NetFn.App, cmd: AppCmd.GetPayloadInstanceInfo, name: 'Get Payload Instance Info', privilege: Privilege.User,
        handler: (d) => {
          if (d.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
          if (d[0] !== PayloadType.Sol || d[1] !== SOL_INSTANCE) return fail(CompletionCode.InvalidDataField);
          return ok(new ByteWriter(12).u32le(this.active?.session.bmcSessionId ?? 0).fill(0, 8).toBuffer());
        },
      },
      {
        netFn: NetFn.App, cmd: AppCmd.GetChannelPayloadSupport, name: 'Get Channel Payload Support', privilege: Privilege.User,
        handler: (d) => {
          if (d.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
          if (!this.isOurChannel(d[0]!)) return fail(CompletionCode.InvalidDataField);
          return ok(Buffer.from(CHANNEL_PAYLOAD_SUPPORT));
        },
      },
      {
        netFn: NetFn.App, cmd: AppCmd.GetChannelPayloadVersion, name: 'Get Channel Payload Version', privilege: Privilege.User,
        handler: (d) => {
          if (d.length !== 2) return fail(CompletionCode.RequestDataLengthInvalid);
          if (!this.isOurChannel(d[0]!)) return fail(CompletionCode.InvalidDataField);
          if (d[1] !== PayloadType.Ipmi && d[1] !== PayloadType.Sol) return fail(0x80); // payload type not available
          return ok(Buffer.from([PAYLOAD_VERSION_1_0]));
        },
      },
    ];
  }

  private isOurChannel(raw: number): boolean {
    const ch = raw & 0x0f;
    return isThisChannel(ch, this.deps.config.payloadChannel);
  }

  private activate(d: Buffer, sessionId: number, privilege: number, userId: number, now: number): CommandResult {
    if (d.length !== 6) return fail(CompletionCode.RequestDataLengthInvalid);
    if ((d[0]! & 0x3f) !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
    if (d[1] !== SOL_INSTANCE) return fail(CompletionCode.InvalidDataField);
    const session = this.deps.engine.getSession(sessionId);
    if (!session || session.protocol !== 'rmcpplus') return fail(CompletionCode.NotSupportedInPresentState); // SOL needs RMCP+
    const settings = this.deps.config.settings;
    if (!settings.enabled) return fail(ActivatePayloadCode.PayloadDisabled);
    if (!this.deps.users.get(userId)?.access.solPayload) return fail(ActivatePayloadCode.PayloadDisabled);
    if (privilege < settings.privilegeLevel) return fail(CompletionCode.InsufficientPrivilege);
    const wantsEncryption = (d[2]! & AUX_ENCRYPTION) !== 0;
    const wantsAuthentication = (d[2]! & AUX_AUTHENTICATION) !== 0;
    const hasEncryption = session.suite.confidentiality.cipher !== null;
    const hasAuthentication = session.suite.integrity.hash !== null;
    if ((wantsEncryption && !hasEncryption) || (wantsAuthentication && !hasAuthentication)) return fail(ActivatePayloadCode.CannotActivateWithEncryption);
    if ((settings.forceEncryption && !wantsEncryption) || (settings.forceAuthentication && !wantsAuthentication)) return fail(ActivatePayloadCode.CannotActivateWithoutEncryption);
    if (this.active) return fail(ActivatePayloadCode.AlreadyActive);
    const channel = SolChannel.fromConfig(this.deps.config, { outboundPayloadSize: SOL_PAYLOAD_SIZE });
    this.active = { session, channel };
    this.deps.log.info('SOL activated', { handle: session.handle, user: session.userName, at: now });
    return ok(encodeActivatePayloadResponse({
      kind: 'activate-payload-response',
      auxiliaryResponseData: 0,
      inboundPayloadSize: SOL_PAYLOAD_SIZE,
      outboundPayloadSize: SOL_PAYLOAD_SIZE,
      payloadUdpPortNumber: this.deps.solPort(),
      payloadVlanNumber: NO_VLAN,
    }));
  }

  private deactivate(d: Buffer, sessionId: number, privilege: number, now: number): CommandResult {
    if (d.length !== 6) return fail(CompletionCode.RequestDataLengthInvalid);
    if ((d[0]! & 0x3f) !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
    if (d[1] !== SOL_INSTANCE) return fail(CompletionCode.InvalidDataField);
    const a = this.active;
    if (!a) return fail(DeactivatePayloadCode.AlreadyDeactivated);
    if (a.session.bmcSessionId === sessionId) {
      this.active = null;
      this.deps.log.info('SOL deactivated', { reason: 'by its session', at: now });
      return ok();
    }
    // Another session takes SOL away: only an administrator may, and the owner's session ends.
    if (privilege < Privilege.Administrator) return fail(CompletionCode.InsufficientPrivilege);
    this.deps.engine.closeSession(a.session.bmcSessionId, 'closed-by-admin', now);
    return ok();
  }
}
