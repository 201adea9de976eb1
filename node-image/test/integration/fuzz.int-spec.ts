/**
 * The running agent (default configuration, DEBUG off) under at least 100,000 random, mutated and
 * authenticated datagrams (`npm run test:soak`: 1,000,000, with FUZZ_DATAGRAMS and
 * FUZZ_MIN_DATAGRAMS). Generation runs until the count is reached: the time limit only stops a
 * hung run, it is not what the test measures.
 *
 * Seeds: the requests of the captured real-client vectors (test/vectors), packets of live sessions
 * made with the project's client code (ClientSession handshakes, sealed in-session requests, IPMI
 * 1.5 session packets), sessionless requests, and random bytes. Mutations (test/support/mutators):
 * bit flips, byte replacements, truncation (at every offset for a set of seeds), extension,
 * insertion/deletion, length-field corruption, header-field swaps (auth type, payload type, the
 * session id of a live session, sequence numbers), splicing.
 *
 * Blind mutations stop at the AuthCode, so the authenticated path is fuzzed by holding the keys of
 * live sessions (users "fuzzer", privilege User, and "fuzzadmin", Administrator, created for the
 * test; the latter's commands that would end the test's sessions are redirected, see
 * tameForAdministrator): mutated IPMI messages (with
 * and without repaired checksums), other payload types, SOL payloads into an active SOL session,
 * garbage ciphertext, wrong encryption bits and replayed/out-of-window sequence numbers all go out
 * with a valid AuthCode (RMCP+ suites 17 and 3, and an MD5 IPMI 1.5 session). A third socket
 * reacts to the agent's answers to push mutated RAKP1/RAKP3 and Activate Session messages into
 * live half-open handshakes (user "probe": it gets locked out on the way, and the administrator
 * session re-enables it after every burst).
 *
 * The datagrams go out in bursts of 200; after each burst the test waits for the agent's answer to
 * a presence ping (so the agent has read the burst and its socket buffer is not the only thing
 * tested). Throughout and at the end: the agent process is alive, an administrator session opened
 * before the fuzzing answers Get Device ID (same bytes as before) and power status, and at the end
 * a fresh session does too. The agent's open file descriptors and resident memory at the end are
 * compared with a baseline taken after the first tenth of the datagrams (see RESOURCE_TOLERANCE),
 * so a leak per datagram or per handshake shows. The agent must never log an error ("unexpected error handling
 * datagram" is the engine's catch-all for bugs) nor the dispatcher's "command handler failed"
 * (its catch-all for handler bugs); the offending datagrams are isolated by replay and printed. Every datagram the agent sends in the fuzz sessions must verify and decode.
 *
 * Replay: FUZZ_SEED=<seed printed below> reproduces the choice of seeds and mutations; values of
 * the live sessions (ids, keys, IVs) differ between runs, which is why failures print the bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { bugLogLines, isAlive, processResources, ProcessResources, udpSocketStats } from '../support/process-probe';
import { fixIpmiChecksums, fuzzSeedFromEnv, INTERESTING_U32, mutate, MutationContext, Prng, randomDatagram } from '../support/mutators';
import {
  decodeIpmi15Datagram, ipmi15Sessionless, ipmiRequestMessage, openSessionReply, openSessionRequest, pongTag, presencePing, RawIpmi15Session,
  RawSession, RawUdp, rakp1Request, rakpReply, rmcpPlusSessionless, sessionChallengeData,
} from '../support/rmcp-raw';
import { DeviceId, encodeGetChannelAuthCapabilities, encodeGetChannelCipherSuites, IpmiClient } from '../../src/client';
import { decodeIpmiResponse } from '../../src/protocol/ipmi-message';
import { encodeRmcpPlusPacket } from '../../src/protocol/session/rmcpplus-packet';
import { encodeIpmi15Packet } from '../../src/protocol/session/ipmi15-packet';
import { encodeRakp3 } from '../../src/protocol/session/rakp';
import { suiteById } from '../../src/protocol/crypto/cipher-suites';
import { AuthType15 } from '../../src/protocol/crypto/auth15';
import { PayloadType } from '../../src/protocol/netfn';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
/** The acceptance floor (the soak run raises it). */
const MIN_DATAGRAMS = Number(process.env.FUZZ_MIN_DATAGRAMS ?? 100_000);
/** What a run aims for (FUZZ_DATAGRAMS overrides it for longer local runs); never below the floor. */
const TARGET_DATAGRAMS = Math.max(MIN_DATAGRAMS, Number(process.env.FUZZ_DATAGRAMS ?? 100_000));
const BURST = 200;
/** Only a guard against a hung run (generation stops, and the count assertion then fails). */
const GENERATION_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 1_200_000);
/** How far file descriptors and resident memory may grow from the baseline to the end. */
const RESOURCE_TOLERANCE = { fds: 2, rssKiB: (baselineKiB: number): number => Math.max(64 * 1024, Math.round(baselineKiB / 2)) };
const CHECK_EVERY_BURSTS = 25;
const MAX_REPORTED = 10;

const ADMIN = { user: 'admin', password: 'password' };
const FUZZER = { id: 3, user: 'fuzzer', password: 'fuzzpass1' };
const PROBE = { id: 4, user: 'probe', password: 'probepass1' };
const FUZZ_ADMIN = { id: 5, user: 'fuzzadmin', password: 'fuzzadmin1' };
/** Users the administrator fuzz session may change (user management commands are pointed at them). */
const SCRATCH_USER_IDS = [6, 7, 8, 9, 10];
const CHANNEL = 1;
const PRIV_USER = 2;
const PRIV_ADMIN = 4;

jest.setTimeout(GENERATION_LIMIT_MS + 90_000);

interface Template { readonly netFn: number; readonly cmd: number; readonly data: number[] }

/** Requests a console sends, to mutate inside sessions and outside (NetFn, cmd, data). */
const TEMPLATES: readonly Template[] = [
  { netFn: 0x06, cmd: 0x01, data: [] }, { netFn: 0x06, cmd: 0x04, data: [] }, { netFn: 0x06, cmd: 0x08, data: [] },
  { netFn: 0x06, cmd: 0x37, data: [] }, { netFn: 0x06, cmd: 0x38, data: [0x8e, 0x04] }, { netFn: 0x06, cmd: 0x39, data: [...sessionChallengeData(PROBE.user)] },
  { netFn: 0x06, cmd: 0x3b, data: [0x02] }, { netFn: 0x06, cmd: 0x3b, data: [0x04] }, { netFn: 0x06, cmd: 0x3d, data: [0x00] },
  { netFn: 0x06, cmd: 0x3d, data: [0x01] }, { netFn: 0x06, cmd: 0x3d, data: [0xfe, 0x01] }, { netFn: 0x06, cmd: 0x3d, data: [0xff, 1, 2, 3, 4] },
  { netFn: 0x06, cmd: 0x41, data: [0x01, 0x40] }, { netFn: 0x06, cmd: 0x42, data: [0x0e] }, { netFn: 0x06, cmd: 0x44, data: [0x01, 0x02] },
  { netFn: 0x06, cmd: 0x46, data: [0x02] }, { netFn: 0x06, cmd: 0x48, data: [0x01, 0x01, 0xc6, 0, 0, 0] }, { netFn: 0x06, cmd: 0x49, data: [0x01, 0x01, 0, 0, 0, 0] },
  { netFn: 0x06, cmd: 0x4a, data: [0x01] }, { netFn: 0x06, cmd: 0x4b, data: [0x01, 0x01] }, { netFn: 0x06, cmd: 0x4d, data: [0x01, 0x03] },
  { netFn: 0x06, cmd: 0x4e, data: [0x01] }, { netFn: 0x06, cmd: 0x4f, data: [0x01] }, { netFn: 0x06, cmd: 0x54, data: [0x0e, 0x00, 0x80] },
  { netFn: 0x06, cmd: 0x59, data: [0x00, 0x01, 0x00, 0x00] },
  { netFn: 0x00, cmd: 0x00, data: [] }, { netFn: 0x00, cmd: 0x01, data: [] }, { netFn: 0x00, cmd: 0x02, data: [0x01] },
  { netFn: 0x00, cmd: 0x04, data: [0x0f, 0x00] }, { netFn: 0x00, cmd: 0x07, data: [] }, { netFn: 0x00, cmd: 0x08, data: [0x05, 0x80, 0x04, 0, 0, 0] },
  { netFn: 0x00, cmd: 0x09, data: [0x05, 0x00, 0x00] }, { netFn: 0x00, cmd: 0x0f, data: [] },
  { netFn: 0x04, cmd: 0x20, data: [] }, { netFn: 0x04, cmd: 0x27, data: [0x01] }, { netFn: 0x04, cmd: 0x29, data: [0x01] }, { netFn: 0x04, cmd: 0x2d, data: [0x01] },
  { netFn: 0x0a, cmd: 0x10, data: [0x00] }, { netFn: 0x0a, cmd: 0x11, data: [0x00, 0x00, 0x00, 0x10] }, { netFn: 0x0a, cmd: 0x20, data: [] },
  { netFn: 0x0a, cmd: 0x22, data: [] }, { netFn: 0x0a, cmd: 0x23, data: [0, 0, 0, 0, 0, 0xff] }, { netFn: 0x0a, cmd: 0x40, data: [] },
  { netFn: 0x0a, cmd: 0x42, data: [] }, { netFn: 0x0a, cmd: 0x43, data: [0, 0, 0, 0, 0, 0xff] }, { netFn: 0x0a, cmd: 0x48, data: [] },
  { netFn: 0x0c, cmd: 0x02, data: [0x01, 0x03, 0x00, 0x00] }, { netFn: 0x0c, cmd: 0x02, data: [0x01, 0x1a, 0x00, 0x00] }, { netFn: 0x0c, cmd: 0x22, data: [0x01, 0x01, 0x00, 0x00] },
  { netFn: 0x2c, cmd: 0x3e, data: [0x00, 0x02] }, { netFn: 0x2c, cmd: 0x00, data: [0x00] }, { netFn: 0x2c, cmd: 0x00, data: [0x03] },
];

function capturedRequests(): Buffer[] {
  const out: Buffer[] = [];
  for (const n of [1, 2, 3, 4, 7]) {
    const v = JSON.parse(readFileSync(join(__dirname, '..', 'vectors', `vector${n}.json`), 'utf8')) as { packets: Array<{ direction: string; hex: string }> };
    for (const p of v.packets) if (p.direction === 'request') out.push(Buffer.from(p.hex, 'hex'));
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const padded = (s: string, n: number): number[] => { const b = Buffer.alloc(n); Buffer.from(s, 'latin1').copy(b); return [...b]; };

/** Close Session would end the fuzz session itself (other sessions need Administrator): make it Get Session Info. */
function withoutCloseSession(msg: Buffer): Buffer {
  if (msg.length >= 7 && msg[1]! >> 2 === 0x06 && msg[5] === 0x3c) {
    const m = Buffer.from(msg);
    m[5] = 0x3d;
    return fixIpmiChecksums(m);
  }
  return msg;
}

const checksumsValid = (m: Buffer): boolean => m.length >= 7 && fixIpmiChecksums(m).equals(m);

/**
 * For the Administrator fuzz session: commands that would end the test's own sessions or lock out
 * its users are pointed elsewhere, everything else reaches its handler with the mutated data.
 * Cold/Warm Reset and Close Session become Get Device ID / Get Session Info, user management goes
 * to scratch users 6–10, Chassis Control can only power off (the machine stays off). Set Channel
 * Access stays (the test restores the privilege limit after every burst).
 */
function tameForAdministrator(msg: Buffer, rng: Prng): Buffer {
  if (!checksumsValid(msg)) return msg;
  const m = Buffer.from(msg);
  const netFn = m[1]! >> 2;
  const cmd = m[5]!;
  const dataAt = (i: number): boolean => m.length - 1 > 6 + i;
  const scratch = (i: number): void => { if (dataAt(i)) m[6 + i] = (m[6 + i]! & 0xc0) | rng.pick(SCRATCH_USER_IDS); };
  if (netFn === 0x06) {
    if (cmd === 0x02 || cmd === 0x03) m[5] = 0x01;
    else if (cmd === 0x3c) m[5] = 0x3d;
    else if (cmd === 0x43 || cmd === 0x4c) scratch(1);
    else if (cmd === 0x45 || cmd === 0x47) scratch(0);
  } else if (netFn === 0x00 && cmd === 0x02 && dataAt(0)) {
    m[6] = 0x00;
  }
  return fixIpmiChecksums(m);
}

interface SentItem {
  readonly via: 'blind' | 'auth' | 'react';
  readonly bytes: Buffer;
  readonly what: string;
  /** Builds the same datagram again for isolation by replay (sealed ones with a fresh sequence number). */
  readonly replay?: () => Buffer;
}

describe(`agent under ${MIN_DATAGRAMS.toLocaleString('en-US')} fuzzed datagrams`, () => {
  let agent: RunningAgent | undefined;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ IPMI_USER: ADMIN.user, IPMI_PASS: ADMIN.password, DEBUG: 'false' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
    await agent?.stop();
  });

  it('stays alive, keeps serving valid sessions and never hits its catch-all', async () => {
    const seed = fuzzSeedFromEnv();
    process.stdout.write(`fuzz seed: FUZZ_SEED=${seed}\n`);
    const rng = new Prng(seed);
    const port = agent!.port;
    const pid = agent!.pid;

    // ---------------------------------------------------------------- sessions and users
    const kept = await IpmiClient.connect({ host: '127.0.0.1', port, user: ADMIN.user, password: ADMIN.password, cipherSuite: 17, timeoutMs: 1000, retries: 3 });
    closers.push(() => kept.close());
    const deviceIdBefore: DeviceId = await kept.getDeviceId();
    expect(await kept.powerStatus()).toBe('off');
    for (const u of [FUZZER, PROBE, FUZZ_ADMIN]) {
      await kept.requestOk(0x06, 0x45, Buffer.from([u.id, ...padded(u.user, 16)]), 'Set User Name');
      await kept.requestOk(0x06, 0x47, Buffer.from([u.id, 0x02, ...padded(u.password, 16)]), 'Set User Password (set)');
      await kept.requestOk(0x06, 0x47, Buffer.from([u.id, 0x01]), 'Set User Password (enable)');
      await kept.requestOk(0x06, 0x43, Buffer.from([0x80 | 0x20 | 0x10 | CHANNEL, u.id, u === FUZZ_ADMIN ? PRIV_ADMIN : PRIV_USER]), 'Set User Access');
    }
    // The channel's privilege limits, restored after every burst (the Administrator fuzz session may change them).
    const channelLimit = { nonVolatile: (await kept.requestOk(0x06, 0x41, Buffer.from([CHANNEL, 0x40])))[1]! & 0x0f, volatile: (await kept.requestOk(0x06, 0x41, Buffer.from([CHANNEL, 0x80])))[1]! & 0x0f };
    await kept.requestOk(0x06, 0x4c, Buffer.from([CHANNEL, FUZZER.id, 0x02, 0, 0, 0]), 'Set User Payload Access (SOL)');

    const sync = await RawUdp.open(port);
    const blind = await RawUdp.open(port);
    const auth = await RawUdp.open(port);
    const react = await RawUdp.open(port);
    for (const s of [sync, blind, auth, react]) closers.push(() => s.close());

    const solActivations: Array<number | undefined> = [];
    // Session A holds SOL, so that SOL payloads reach a live SOL channel (an administrator taking SOL away ends A: it logs in again).
    const login17 = async (): Promise<RawSession> => {
      const s = await RawSession.open(auth, { user: FUZZER.user, password: FUZZER.password, suiteId: 17, privilege: PRIV_USER });
      solActivations.push((await s.call(0x06, 0x48, Buffer.from([0x01, 0x01, 0xc6, 0, 0, 0])))?.completionCode);
      return s;
    };
    const login3 = (): Promise<RawSession> => RawSession.open(auth, { user: FUZZER.user, password: FUZZER.password, suiteId: 3, privilege: PRIV_USER });
    const login15 = (): Promise<RawIpmi15Session> => RawIpmi15Session.open(auth, { user: FUZZER.user, password: FUZZER.password, privilege: PRIV_USER });
    let sA = await login17();
    let sB = await login3();
    let sC = await login15();
    const loginAdmin = async (): Promise<RawSession> => {
      const s = await RawSession.open(auth, { user: FUZZ_ADMIN.user, password: FUZZ_ADMIN.password, suiteId: 17, privilege: PRIV_ADMIN });
      expect((await s.call(0x06, 0x3b, Buffer.from([PRIV_ADMIN])))?.completionCode).toBe(0);
      return s;
    };
    let sD = await loginAdmin();
    const relogins = { rmcpplus: 0, ipmi15: 0 };
    expect(solActivations).toEqual([0]);
    for (const s of [sA, sB]) expect((await s.call(0x06, 0x01))?.completionCode).toBe(0);
    expect((await sC.call(0x06, 0x01))?.completionCode).toBe(0);

    // ---------------------------------------------------------------- what comes back
    const stats = {
      sent: 0, byGenerator: {} as Record<string, number>, blindAnswers: 0, authAnswers: 0, authSol: 0, reactAnswers: 0,
      rakp1Pushed: 0, rakp3Pushed: 0, activatePushed: 0, checkpoints: 0,
    };
    const agentMalformed: string[] = [];
    blind.onDatagram = () => { stats.blindAnswers++; };
    auth.onDatagram = (d) => {
      try {
        for (const s of [sA, sB, sD]) {
          const opened = s.open(d);
          if (!opened) continue;
          if (opened.payloadType === PayloadType.Ipmi) { decodeIpmiResponse(opened.payload); stats.authAnswers++; }
          else if (opened.payloadType === PayloadType.Sol) stats.authSol++;
          else throw new Error(`payload type ${opened.payloadType}`);
          return;
        }
        const m = sC.open(d);
        if (m) { decodeIpmiResponse(m); stats.authAnswers++; }
      } catch (err) {
        if (agentMalformed.length < MAX_REPORTED) agentMalformed.push(`${(err as Error).message} :: ${d.toString('hex')}`);
      }
    };

    // Reactive handshakes: answers on the react socket push mutated next steps into live half-open sessions.
    const reactOpen = new Map<number, number>(); // console session id → BMC session id
    let reactCounter = 0;
    const reactCtx = (): MutationContext => ({ seeds: [], liveSessionIds: [], liveSequences: [] });
    // Its own generator: answers arrive at times of their own, and must not shift the main sequence.
    const reactRng = new Prng((seed ^ 0x5bd1e995) >>> 0);
    react.onDatagram = (d) => {
      stats.reactAnswers++;
      try {
        const open = openSessionReply(d);
        if (open && open.status === 0 && open.bmcSessionId !== undefined && reactOpen.has(open.consoleSessionId)) {
          reactOpen.set(open.consoleSessionId, open.bmcSessionId);
          let m = rakp1Request({ bmcSessionId: open.bmcSessionId, userName: PROBE.user, privilege: reactRng.pick([2, 2, 3, 4]), tag: reactRng.int(256) });
          if (reactRng.chance(0.5)) m = mutate(m, reactRng, reactCtx()).bytes;
          react.send(m);
          stats.rakp1Pushed++;
          stats.sent++;
          return;
        }
        const rakp2 = rakpReply(d);
        if (rakp2 && rakp2.status === 0 && reactOpen.has(rakp2.consoleSessionId)) {
          const bmcSessionId = reactOpen.get(rakp2.consoleSessionId)!;
          reactOpen.delete(rakp2.consoleSessionId);
          // Never a valid HMAC: these handshakes must not become sessions.
          const authCode = reactRng.bytes(reactRng.pick([0, 1, 12, 16, 20, 32, 40]));
          let m = encodeRmcpPlusPacket({ payloadType: PayloadType.Rakp3, sessionId: 0, sequence: 0, encrypted: false, integrity: null,
            payload: encodeRakp3({ tag: reactRng.int(256), status: reactRng.chance(0.8) ? 0 : reactRng.pick([0x01, 0x02, 0x0f, 0x12, 0xff]), bmcSessionId, authCode }) });
          if (reactRng.chance(0.4)) m = mutate(m, reactRng, reactCtx()).bytes;
          react.send(m);
          stats.rakp3Pushed++;
          stats.sent++;
          return;
        }
        const p15 = decodeIpmi15Datagram(d);
        if (p15 && p15.sessionId === 0) {
          const r = decodeIpmiResponse(p15.message);
          if (r.cmd === 0x39 && r.rqSeq === 0x2a && r.completionCode === 0 && r.data.length === 20) {
            const temporaryId = r.data.readUInt32LE(0);
            const body = Buffer.alloc(22);
            body[0] = AuthType15.Md5;
            body[1] = PRIV_USER;
            r.data.copy(body, 2, 4, 20);
            body.writeUInt32LE(reactRng.chance(0.9) ? reactRng.u32() : 0, 18);
            let msg = ipmiRequestMessage(0x06, 0x3a, reactRng.chance(0.7) ? body : mutate(body, reactRng, reactCtx()).bytes, 0x2b);
            if (reactRng.chance(0.2)) msg = fixIpmiChecksums(mutate(msg, reactRng, reactCtx()).bytes);
            // A wrong AuthCode (the password is never used here): refused, counted against "probe".
            react.send(encodeIpmi15Packet({ authType: reactRng.chance(0.9) ? AuthType15.Md5 : AuthType15.Password, sequence: 0, sessionId: temporaryId, authCode: reactRng.bytes(16), message: msg }));
            stats.activatePushed++;
            stats.sent++;
          }
        }
      } catch {
        // an answer we cannot read is the blind traffic's business, not ours
      }
    };

    // ---------------------------------------------------------------- seeds
    const suite17 = suiteById(17)!;
    const suite3 = suiteById(3)!;
    const captured = capturedRequests();
    const liveSeeds = (): Buffer[] => [
      openSessionRequest({ consoleSessionId: rng.u32() | 1, suite: suite17 }),
      openSessionRequest({ consoleSessionId: rng.u32() | 1, suite: suite3, privilege: 4 }),
      rakp1Request({ bmcSessionId: sA.bmcSessionId, userName: FUZZER.user, privilege: PRIV_USER }),
      rakp1Request({ bmcSessionId: rng.u32(), userName: ADMIN.user }),
      sA.seal({ cleartext: ipmiRequestMessage(0x00, 0x01, Buffer.alloc(0), 1) }, false),
      sA.seal({ payloadType: PayloadType.Sol, cleartext: Buffer.from([0x01, 0x00, 0x00, 0x00, 0x61, 0x0d]) }, false),
      sB.seal({ cleartext: ipmiRequestMessage(0x06, 0x01, Buffer.alloc(0), 2) }, false),
      sC.seal(ipmiRequestMessage(0x06, 0x01, Buffer.alloc(0), 3), { validAuthCode: false }),
      encodeGetChannelAuthCapabilities(),
      encodeGetChannelCipherSuites({ rqSeq: 4, listIndex: 0 }),
      ipmi15Sessionless(ipmiRequestMessage(0x06, 0x39, sessionChallengeData(PROBE.user), 5)),
      presencePing(7),
    ];
    let seeds = [...captured, ...liveSeeds()];
    const ctx = (): MutationContext => ({
      seeds,
      liveSessionIds: [sA.bmcSessionId, sB.bmcSessionId, sC.sessionId, sD.bmcSessionId, kept.bmcSessionId ?? 0],
      liveSequences: [sA.nextSequence, sB.nextSequence, sC.nextSequence, sA.highestAccepted ?? 1],
    });

    // ---------------------------------------------------------------- generators
    const structuredMessage = (): Buffer => {
      const t: Template = rng.chance(0.85) ? rng.pick(TEMPLATES) : { netFn: rng.int(0x20) * 2, cmd: rng.int(256), data: [...rng.bytes(rng.int(24))] };
      let data: Buffer = Buffer.from(t.data);
      if (rng.chance(0.7)) {
        switch (rng.int(4)) {
          case 0: data = Buffer.from(mutate(data, rng, ctx()).bytes.subarray(0, 64)); break;
          case 1: data = data.subarray(0, rng.int(data.length + 1)); break;
          case 2: data = Buffer.concat([data, rng.bytes(rng.range(1, 40))]); break;
          default: data = rng.bytes(rng.int(40));
        }
      }
      let msg = ipmiRequestMessage(t.netFn, t.cmd, data, rng.int(64));
      if (rng.chance(0.2)) msg = mutate(msg, rng, ctx()).bytes;
      if (rng.chance(0.85)) msg = fixIpmiChecksums(msg);
      return withoutCloseSession(msg);
    };

    const generators: Array<readonly [string, number, () => SentItem | undefined]> = [
      ['blind-mutation', 30, () => {
        const m = mutate(rng.pick(seeds), rng, ctx());
        return { via: 'blind', bytes: m.bytes, what: m.ops.join(','), replay: () => m.bytes };
      }],
      ['random', 8, () => {
        const m = randomDatagram(rng);
        return { via: 'blind', bytes: m.bytes, what: m.ops.join(','), replay: () => m.bytes };
      }],
      ['sessionless-structured', 10, () => {
        const msg = structuredMessage();
        const d = rng.chance(0.5) ? ipmi15Sessionless(msg) : rmcpPlusSessionless(msg);
        return { via: 'blind', bytes: d, what: `sessionless ${msg.toString('hex')}`, replay: () => d };
      }],
      ['rmcpplus-authenticated', 30, () => {
        const which = rng.int(10);
        const s = which < 4 ? sA : which < 7 ? sB : sD;
        const msg = s === sD ? tameForAdministrator(structuredMessage(), rng) : structuredMessage();
        const v = rng.int(100);
        let what = `suite ${s.suite.id}${s === sD ? ' administrator' : ''} `;
        let build: () => Buffer;
        if (v < 70) { what += `ipmi ${msg.toString('hex')}`; build = () => s.seal({ cleartext: msg }); }
        else if (v < 76) {
          const solPayload = Buffer.concat([Buffer.from([rng.int(16), rng.int(16), rng.int(256), rng.pick([0, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, rng.int(256)])]), rng.bytes(rng.int(300))]);
          what += `sol ${solPayload.toString('hex')}`;
          build = () => s.seal({ payloadType: PayloadType.Sol, cleartext: solPayload });
        } else if (v < 80) {
          const payloadType = rng.pick([0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x20, 0x3f]);
          what += `payload type ${payloadType} ${msg.toString('hex')}`;
          const oemHeader = rng.bytes(6);
          build = () => s.seal({ payloadType, cleartext: msg, oemHeader });
        } else if (v < 85) { what += `not encrypted ${msg.toString('hex')}`; build = () => s.seal({ cleartext: msg, encrypted: false }); }
        else if (v < 88) { what += `not authenticated ${msg.toString('hex')}`; build = () => s.seal({ cleartext: msg, authenticated: false }); }
        else if (v < 93) {
          const raw = rng.bytes(rng.pick([0, 1, 15, 16, 17, 31, 32, 33, 48, 64, rng.int(200)]));
          what += `garbage ciphertext ${raw.toString('hex')}`;
          build = () => s.seal({ rawPayload: raw, encrypted: true });
        } else if (v < 97) {
          const h = s.highestAccepted ?? 1;
          const sequence = rng.pick([h, h - 1, h - 16, h - 17, h + 32, h + 33, 0, 0xffffffff, rng.u32(), ...INTERESTING_U32]) >>> 0;
          what += `sequence ${sequence} ${msg.toString('hex')}`;
          build = () => s.seal({ cleartext: msg, sequence });
        } else {
          const sessionId = rng.pick([kept.bmcSessionId ?? 0, sA.bmcSessionId, sB.bmcSessionId, sC.sessionId, sD.bmcSessionId, 0xffffffff]);
          what += `session id 0x${sessionId.toString(16)} ${msg.toString('hex')}`;
          build = () => s.seal({ cleartext: msg, sessionId });
        }
        return { via: 'auth', bytes: build(), what, replay: build };
      }],
      ['ipmi15-authenticated', 7, () => {
        const msg = structuredMessage();
        const v = rng.int(100);
        let build: () => Buffer;
        let what = 'ipmi15 ';
        if (v < 80) { what += msg.toString('hex'); build = () => sC.seal(msg); }
        else if (v < 88) {
          const sequence = rng.pick([0, 1, 0xffffffff, sC.nextSequence - 1, sC.nextSequence + 33, rng.u32()]) >>> 0;
          what += `sequence ${sequence} ${msg.toString('hex')}`;
          build = () => sC.seal(msg, { sequence });
        } else if (v < 94) { what += `bad AuthCode ${msg.toString('hex')}`; build = () => sC.seal(msg, { validAuthCode: false }); }
        else {
          const sessionId = rng.pick([sA.bmcSessionId, kept.bmcSessionId ?? 0, 0]);
          what += `session id 0x${sessionId.toString(16)} ${msg.toString('hex')}`;
          build = () => sC.seal(msg, { sessionId });
        }
        return { via: 'auth', bytes: build(), what, replay: build };
      }],
      ['reactive-handshake', 10, () => {
        if (rng.chance(0.6)) {
          const consoleSessionId = (0x7000_0000 + ++reactCounter) >>> 0;
          reactOpen.set(consoleSessionId, 0);
          let d = openSessionRequest({ consoleSessionId, suite: rng.chance(0.5) ? suite17 : suite3, privilege: rng.pick([0, 0, 2, 3, 4, 5, 6, 0x0f]), tag: rng.int(256) });
          if (rng.chance(0.3)) d = mutate(d, rng, reactCtx()).bytes;
          if (reactOpen.size > 512) reactOpen.delete(reactOpen.keys().next().value!);
          return { via: 'react', bytes: d, what: 'open session (reactive)' };
        }
        const d = ipmi15Sessionless(ipmiRequestMessage(0x06, 0x39, sessionChallengeData(PROBE.user), 0x2a));
        return { via: 'react', bytes: d, what: 'get session challenge (reactive)' };
      }],
    ];
    const totalWeight = generators.reduce((s, [, w]) => s + w, 0);
    const generate = (): { name: string; item: SentItem | undefined } => {
      let r = rng.int(totalWeight);
      for (const [name, w, g] of generators) {
        if (r < w) return { name, item: g() };
        r -= w;
      }
      return { name: 'none', item: undefined };
    };
    const socketOf = (via: SentItem['via']): RawUdp => (via === 'blind' ? blind : via === 'auth' ? auth : react);

    // ---------------------------------------------------------------- bursts, checks, isolation
    let pingTag = 0;
    const agentCaughtUp = async (): Promise<boolean> => {
      for (let t = 0; t < 5; t++) {
        const tag = pingTag++ & 0xff;
        const pong = sync.waitFor((d) => (pongTag(d) === tag ? true : undefined), 2000);
        sync.send(presencePing(tag));
        if (await pong) {
          await sleep(1); // the agent's log line, if any, travels through a pipe
          return true;
        }
      }
      return false;
    };
    const errorCount = (): number => bugLogLines(agent!.output()).length;
    const culprits: string[] = [];
    let isolations = 0;
    const isolate = async (items: SentItem[]): Promise<void> => {
      if (isolations++ >= 2) return;
      for (const it of items) {
        if (!it.replay || culprits.length >= MAX_REPORTED) continue;
        const before = errorCount();
        const d = it.replay();
        socketOf(it.via).send(d);
        await agentCaughtUp();
        await sleep(5);
        if (errorCount() > before) culprits.push(`${it.via} [${it.what}] ${d.toString('hex')}`);
      }
      const unreplayable = items.filter((i) => !i.replay).length;
      if (culprits.length === 0) culprits.push(`not reproduced by replay; ${unreplayable} reactive datagrams in the burst could not be replayed: ${items.filter((i) => !i.replay).slice(0, 5).map((i) => i.bytes.toString('hex')).join(' ')}`);
    };
    const checkKept = async (): Promise<void> => {
      expect(isAlive(pid)).toBe(true);
      expect(await kept.getDeviceId()).toEqual(deviceIdBefore);
      expect(await kept.powerStatus()).toBe('off');
    };
    // A fuzz session can legitimately end (an administrator deactivating A's SOL closes A): log in again.
    const alive = { timeoutMs: 500, tries: 2 };
    const reviveFuzzSessions = async (): Promise<void> => {
      if (!(await sA.call(0x06, 0x01, undefined, alive))) { sA = await login17(); relogins.rmcpplus++; }
      if (!(await sB.call(0x06, 0x01, undefined, alive))) { sB = await login3(); relogins.rmcpplus++; }
      if (!(await sC.call(0x06, 0x01, undefined, alive))) { sC = await login15(); relogins.ipmi15++; }
      if (!(await sD.call(0x06, 0x01, undefined, alive))) { sD = await loginAdmin(); relogins.rmcpplus++; }
    };

    const started = Date.now();
    let bursts = 0;
    let baseline: ProcessResources | undefined;
    let previous: SentItem[] = [];
    const send = async (items: SentItem[]): Promise<void> => {
      const errorsBefore = errorCount();
      for (const it of items) { socketOf(it.via).send(it.bytes); stats.sent++; }
      bursts++;
      if (!(await agentCaughtUp())) {
        throw new Error(`the agent stopped answering presence pings after ${stats.sent} datagrams (alive: ${isAlive(pid)}; seed ${seed}); its last output:\n${agent!.output().slice(-3000)}`);
      }
      if (errorCount() > errorsBefore) await isolate([...previous, ...items]);
      previous = items;
      // The reactive handshakes lock "probe" out after a few wrong passwords; the administrator
      // re-enables it (which ends a lockout) so that they keep reaching the RAKP3 and Activate
      // Session checks. This also uses the kept session after every burst.
      await Promise.all([
        kept.requestOk(0x06, 0x47, Buffer.from([PROBE.id, 0x01]), 'Set User Password (enable probe)'),
        kept.requestOk(0x06, 0x40, Buffer.from([CHANNEL, 0x00, 0x40 | channelLimit.nonVolatile]), 'Set Channel Access (non-volatile limit)'),
        kept.requestOk(0x06, 0x40, Buffer.from([CHANNEL, 0x00, 0x80 | channelLimit.volatile]), 'Set Channel Access (volatile limit)'),
      ]);
      if (!baseline && stats.sent >= TARGET_DATAGRAMS / 10) baseline = processResources(pid);
      if (bursts % CHECK_EVERY_BURSTS === 0) {
        stats.checkpoints++;
        await checkKept();
        await reviveFuzzSessions();
        seeds = [...captured, ...liveSeeds()];
      }
    };

    // Truncation at every offset of a set of seeds.
    const truncationSeeds = [
      ...captured.filter((d) => d.length > 20).slice(0, 8),
      sA.seal({ cleartext: ipmiRequestMessage(0x06, 0x01, Buffer.alloc(0), 9) }, false),
      sB.seal({ payloadType: PayloadType.Sol, cleartext: Buffer.from([0x01, 0x00, 0x00, 0x00, 0x61]) }, false),
      sC.seal(ipmiRequestMessage(0x00, 0x01, Buffer.alloc(0), 10), { validAuthCode: false }),
      presencePing(9),
    ];
    const truncations: SentItem[] = [];
    for (const s of truncationSeeds) {
      for (let at = 0; at < s.length; at++) {
        const d = Buffer.from(s.subarray(0, at));
        truncations.push({ via: 'blind', bytes: d, what: `truncate@${at}`, replay: () => d });
      }
    }
    stats.byGenerator.truncation = truncations.length;
    for (let i = 0; i < truncations.length; i += BURST) await send(truncations.slice(i, i + BURST));

    while (stats.sent < TARGET_DATAGRAMS && Date.now() - started < GENERATION_LIMIT_MS) {
      const items: SentItem[] = [];
      while (items.length < BURST) {
        const { name, item } = generate();
        if (!item) continue;
        stats.byGenerator[name] = (stats.byGenerator[name] ?? 0) + 1;
        items.push(item);
      }
      await send(items);
    }
    const elapsed = Date.now() - started;
    await agentCaughtUp();
    await sleep(200); // late answers of the last burst

    // ---------------------------------------------------------------- the end
    const socketStats = udpSocketStats(port);
    const end = processResources(pid);
    process.stdout.write(`fuzz: ${stats.sent} datagrams in ${elapsed} ms (seed ${seed}); ${JSON.stringify({ ...stats, relogins, solActivations, agentSocket: socketStats, baseline, end })}\n`);
    await checkKept();
    const fresh = await IpmiClient.connect({ host: '127.0.0.1', port, user: ADMIN.user, password: ADMIN.password, cipherSuite: 17, timeoutMs: 1000, retries: 3 });
    closers.push(() => fresh.close());
    expect(await fresh.getDeviceId()).toEqual(deviceIdBefore);
    expect(await fresh.powerStatus()).toBe('off');

    for (const s of [sA, sB, sD]) await s.call(0x06, 0x3c, Buffer.from(u32le(s.bmcSessionId)));
    await sC.call(0x06, 0x3c, Buffer.from(u32le(sC.sessionId)));

    expect(stats.sent).toBeGreaterThanOrEqual(MIN_DATAGRAMS);
    // Flat file descriptors and memory: no leak per datagram, handshake or session.
    expect(baseline).toBeDefined();
    expect(end.fds).toBeLessThanOrEqual(baseline!.fds + RESOURCE_TOLERANCE.fds);
    expect(end.rssKiB).toBeLessThanOrEqual(baseline!.rssKiB + RESOURCE_TOLERANCE.rssKiB(baseline!.rssKiB));
    // The authenticated path was really exercised: the agent answered thousands of sealed requests.
    expect(stats.authAnswers).toBeGreaterThan(1000);
    expect(agentMalformed).toEqual([]);
    // The engine's catch-all ("unexpected error handling datagram"), the dispatcher's ("command handler failed") and every other error line.
    expect({ errors: bugLogLines(agent!.output()).slice(0, MAX_REPORTED), culprits }).toEqual({ errors: [], culprits: [] });
    expect(isAlive(pid)).toBe(true);
  });
});
