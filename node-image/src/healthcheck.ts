/**
 * The node image's HEALTHCHECK: is the agent alive and answering IPMI? Sends the first message every
 * client sends, Get Channel Authentication Capabilities (IPMI v2.0 section 22.13, table 22-15;
 * reference 2.1) in IPMI 1.5 framing outside a session (section 13.6, table 13-4), to the agent's
 * own port, and waits for a well-formed answer with completion code 00. That one exchange crosses
 * the UDP socket, the engine and the command dispatch table, so a wedged event loop, a closed socket
 * or a broken dispatcher all turn the container unhealthy.
 *
 * Request datagram (23 bytes): RMCP 06 00 FF 07 | auth type 00 | session seq 00000000 | session id
 * 00000000 | length 09 | 20 18 chk1 81 rqSeq<<2 38 8E 04 chk2
 *
 * Run as its own short-lived process (`node dist/healthcheck.js`, same environment as the agent):
 * exit 0 healthy, 1 unhealthy, with one line saying why (Docker keeps it in `docker inspect`).
 */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { loadConfig } from './config';
import { BMC_SLAVE_ADDRESS, decodeIpmiResponse, encodeIpmiRequest, REMOTE_CONSOLE_SWID } from './protocol/ipmi-message';
import { AppCmd, NetFn } from './protocol/netfn';
import { CompletionCode, Privilege } from './protocol/errors';
import { decodeIpmi15Packet, encodeIpmi15Packet } from './protocol/session/ipmi15-packet';
import { decodeRmcpHeader, RmcpClass } from './protocol/rmcp';
import { AuthType15 } from './protocol/crypto/auth15';
import { ByteReader } from './protocol/wire/byte-reader';
import { CURRENT_CHANNEL } from './bmc/commands/command-types';

/** Request byte 1 bit 7: ask for the IPMI v2.0 extended data, as ipmitool lanplus does. */
const GET_IPMI_V20_EXTENDED_DATA = 0x80;
/** Response data: channel, auth type support, status, extended capabilities, OEM ID (3), OEM aux. */
const AUTH_CAPS_RESPONSE_LENGTH = 8;
/** rqSeq is 6 bits (section 13.8). */
const RQ_SEQ_MASK = 0x3f;

export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
}

export interface ProbeOptions {
  /** How long to wait for each answer. */
  readonly attemptTimeoutMs: number;
  readonly attempts: number;
}

/** Docker's default HEALTHCHECK timeout is 30 s; the Dockerfile sets 5 s: 3 × 1.5 s fits. */
export const DEFAULT_PROBE: ProbeOptions = { attemptTimeoutMs: 1500, attempts: 3 };

/** Where the agent listens, seen from inside its own container: a wildcard bind means loopback. */
export function probeTarget(ipmiAddress: string, ipmiPort: number): ProbeTarget {
  return { address: ipmiAddress === '0.0.0.0' ? '127.0.0.1' : ipmiAddress, port: ipmiPort };
}

/** The Get Channel Authentication Capabilities datagram with this rqSeq. */
export function encodeProbe(rqSeq: number): Buffer {
  const message = encodeIpmiRequest({
    rsAddr: BMC_SLAVE_ADDRESS,
    netFn: NetFn.App,
    rsLun: 0,
    rqAddr: REMOTE_CONSOLE_SWID,
    rqSeq: rqSeq & RQ_SEQ_MASK,
    rqLun: 0,
    cmd: AppCmd.GetChannelAuthCapabilities,
    data: Buffer.from([GET_IPMI_V20_EXTENDED_DATA | CURRENT_CHANNEL, Privilege.Administrator]),
  });
  return encodeIpmi15Packet({ authType: AuthType15.None, sequence: 0, sessionId: 0, authCode: null, message });
}

/**
 * Checks an answer to encodeProbe(rqSeq): null when it is the healthy answer, otherwise why not.
 * Never throws: a malformed datagram is a reason, not a crash.
 */
export function checkProbeReply(datagram: Buffer, rqSeq: number): string | null {
  try {
    const r = new ByteReader(datagram);
    const rmcp = decodeRmcpHeader(r);
    if (rmcp.rmcpClass !== RmcpClass.Ipmi) return `RMCP class ${rmcp.rmcpClass}, expected IPMI`;
    const packet = decodeIpmi15Packet(r);
    if (packet.sessionId !== 0) return `session id ${packet.sessionId}, expected 0`;
    const res = decodeIpmiResponse(packet.message);
    if (res.netFn !== NetFn.App || res.cmd !== AppCmd.GetChannelAuthCapabilities) {
      return `answer to netFn ${res.netFn} cmd ${res.cmd}, expected Get Channel Authentication Capabilities`;
    }
    if (res.rqSeq !== (rqSeq & RQ_SEQ_MASK)) return `rqSeq ${res.rqSeq}, expected ${rqSeq & RQ_SEQ_MASK}`;
    if (res.completionCode !== CompletionCode.Ok) return `completion code 0x${res.completionCode.toString(16).padStart(2, '0')}`;
    if (res.data.length !== AUTH_CAPS_RESPONSE_LENGTH) return `${res.data.length} data bytes, expected ${AUTH_CAPS_RESPONSE_LENGTH}`;
    return null;
  } catch (err) {
    return `malformed answer: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Sends the probe up to `attempts` times (a new rqSeq each time); resolves null when healthy. */
export async function probe(target: ProbeTarget, options: ProbeOptions = DEFAULT_PROBE): Promise<string | null> {
  const socket = createSocket('udp4');
  let lastProblem = 'no answer';
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(target.port, target.address, () => { socket.off('error', reject); resolve(); });
    });
    for (let attempt = 0; attempt < options.attempts; attempt++) {
      const rqSeq = (attempt + 1) & RQ_SEQ_MASK;
      const problem = await new Promise<string | null>((resolve) => {
        const done = (result: string | null): void => {
          clearTimeout(timer);
          socket.off('message', onMessage);
          socket.off('error', onError);
          resolve(result);
        };
        // A late answer to an earlier attempt has another rqSeq: keep waiting for ours.
        const onMessage = (msg: Buffer): void => {
          const why = checkProbeReply(msg, rqSeq);
          if (why === null || !why.startsWith('rqSeq')) done(why);
        };
        const onError = (err: Error): void => done(`socket error: ${err.message}`);
        const timer = setTimeout(() => done(`no answer within ${options.attemptTimeoutMs} ms`), options.attemptTimeoutMs);
        socket.on('message', onMessage);
        socket.on('error', onError);
        socket.send(encodeProbe(rqSeq));
      });
      if (problem === null) return null;
      lastProblem = problem;
    }
    return lastProblem;
  } catch (err) {
    return `cannot reach ${target.address}:${target.port}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    socket.close();
  }
}

async function main(): Promise<number> {
  let target: ProbeTarget;
  try {
    const config = loadConfig(process.env, hostname());
    target = probeTarget(config.ipmiAddress, config.ipmiPort);
  } catch (err) {
    process.stdout.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const problem = await probe(target);
  if (problem === null) {
    process.stdout.write(`healthy: IPMI answers on ${target.address}:${target.port}\n`);
    return 0;
  }
  process.stdout.write(`unhealthy: IPMI on ${target.address}:${target.port}: ${problem}\n`);
  return 1;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stdout.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
