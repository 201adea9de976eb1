/**
 * The `bmcfleet` CLI as users run it: `node dist/src/cli/main.js …` as a child process (built here
 * when dist is missing or older than the CLI's sources) against the real orchestrator app (createApp,
 * as `npm start` builds it) on a free loopback port with a temporary DATA_DIR.
 *
 * - Without Docker: usage errors (exit 2), an orchestrator that is not running, the API's own error
 *   messages and 401 for a wrong or missing token (exit 1).
 * - With Docker and the node image (skipped loudly when missing, failing under CI=true): a sim node
 *   created, listed, powered, reached on its serial console through the leased IPMI port (password
 *   from the environment, then typed at the no-echo prompt), put into a containerlab topology, and
 *   removed with --purge. The fleet has its own FLEET_NAME, so afterAll removes exactly its
 *   containers and volumes by that name prefix.
 *
 * Tests whose names start with [nodes API] need the nodes API (and [containerlab] the topology API)
 * wired into AppModule: until then they fail, on purpose.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runAsync, TerminalSession } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, RunResult } from '../../node-image/test/support/tools';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';

const REPO_ROOT = join(__dirname, '..', '..');
const CLI_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
/** What the compiled CLI is made of: a source newer than its compiled file means dist is stale. */
const CLI_SOURCES = [join(REPO_ROOT, 'src', 'cli'), join(REPO_ROOT, 'node-image', 'src', 'client'), join(REPO_ROOT, 'src', 'nodes', 'node.model.ts'), join(REPO_ROOT, 'src', 'containerlab')];
const BUILD_TIMEOUT_MS = 300_000;
const NODE_IMAGE = 'bmcfleet/node:latest';
const TOKEN = 'cli-integration-token-0123456789';
const IPMI_PASSWORD = 'cli-it-pass';
/** Generous bounds for each step (nothing here is a timing assertion). */
const CLI_TIMEOUT_MS = 150_000;
const STEP_MS = 30_000;
/** Ports per range, at a random place so parallel runs rarely meet. */
const RANGE_WIDTH = 10;

jest.setTimeout(240_000);

/** The TypeScript sources under `path` (a file or a directory), specs left out. */
function sourcesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((f) => sourcesUnder(join(path, f))).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
}

/** Every CLI source has its compiled file, at least as new (tsc rewrites only what changed). */
function cliBuildIsFresh(): boolean {
  return CLI_SOURCES.flatMap(sourcesUnder).every((source) => {
    const compiled = join(REPO_ROOT, 'dist', relative(REPO_ROOT, source)).replace(/\.ts$/, '.js');
    return existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs;
  });
}

/** Compiles the orchestrator and the CLI when dist/src/cli is missing or older than its sources. */
function ensureCliBuilt(): void {
  if (cliBuildIsFresh()) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  // tsc emits even when another file has a type error; what matters is a fresh CLI.
  if (!cliBuildIsFresh()) throw new Error(`building the CLI failed (tsc exit ${r.status}):\n${r.stdout}${r.stderr}`);
}

/** Runs the CLI with a clean environment plus `env`; never a shell. */
function bmcfleet(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runAsync(process.execPath, [CLI_MAIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeoutMs: CLI_TIMEOUT_MS });
}

function explain(r: RunResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function expectExit(r: RunResult, code: number): RunResult {
  if (r.status !== code) throw new Error(`expected exit ${code}, got ${explain(r)}`);
  return r;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface RunningApp {
  readonly app: NestExpressApplication;
  readonly url: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

async function startOrchestrator(env: Record<string, string>): Promise<RunningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-cli-it-'));
  const app = await createApp(parseAppConfig({ LOG_LEVEL: 'warn', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0', ...env }, { cwd: process.cwd() }));
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    app, url, dataDir,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

beforeAll(() => ensureCliBuilt(), BUILD_TIMEOUT_MS + 10_000);

describe('bmcfleet CLI: errors, against the real orchestrator app', () => {
  let open: RunningApp;
  let guarded: RunningApp;

  beforeAll(async () => {
    open = await startOrchestrator({});
    guarded = await startOrchestrator({ API_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await open?.close();
    await guarded?.close();
  });

  it('usage mistakes exit 2 with what to fix, before any request', async () => {
    const badCpus = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'create', 'n1', '--cpus', 'many']), 2);
    expect(badCpus.stderr).toBe('bmcfleet: error: --cpus must be a whole number, got "many"\n');
    const badAction = expectExit(await bmcfleet(['nodes', 'power', 'n1', 'sideways']), 2);
    expect(badAction.stderr).toContain("Allowed choices are on, off, cycle, reset, soft, status.");
    const badUrl = expectExit(await bmcfleet(['nodes', 'ls'], { BMCFLEET_URL: 'localhost:8080' }), 2);
    expect(badUrl.stderr).toContain('orchestrator URL "localhost:8080" must start with http:// or https://');
    expect(expectExit(await bmcfleet(['--help']), 0).stdout).toContain('Usage: bmcfleet');
  });

  it('says the orchestrator is not running at the URL when nothing listens there (exit 1)', async () => {
    const port = await freeTcpPort();
    const viaFlag = expectExit(await bmcfleet(['--url', `http://127.0.0.1:${port}`, 'nodes', 'ls']), 1);
    expect(viaFlag.stderr).toMatch(new RegExp(`^bmcfleet: error: the orchestrator is not running at http://127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
    expect(viaFlag.stdout).toBe('');
    const viaEnv = expectExit(await bmcfleet(['containerlab', 'topology'], { BMCFLEET_URL: `http://127.0.0.1:${port}/` }), 1);
    expect(viaEnv.stderr).toContain(`the orchestrator is not running at http://127.0.0.1:${port}`);
  });

  it('prints the API\'s own message of an HTTP error (exit 1)', async () => {
    const r = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'show', 'ghost']), 1);
    expect(r.stderr).toMatch(/^bmcfleet: error: .+ \(HTTP 404 Not Found\)\n$/);
  });

  it('[containerlab] a topology whose links name 1,000 nodes it does not define: bounded headers, the CLI still writes it', async () => {
    const links = Array.from({ length: 500 }, (_, i) => `ext${2 * i}:eth1,ext${2 * i + 1}:eth1`).join(';');
    const response = await fetch(`${open.url}/api/v1/containerlab/topology`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ links: links.split(';').map((link) => ({ endpoints: link.split(',') })) }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-bmcfleet-undefined-node-count')).toBe('1000');
    expect(response.headers.get('x-bmcfleet-undefined-nodes')?.split(',')).toHaveLength(20);
    const file = join(open.dataDir, 'wide.clab.yml');
    expectExit(await bmcfleet(['--url', open.url, 'containerlab', 'topology', '--links', links, '-o', file]), 0);
    expect(readFileSync(file, 'utf8')).toContain('ext999:eth1');
  });

  it('[nodes API] names the missing node and the API\'s validation messages', async () => {
    const missing = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'show', 'ghost']), 1);
    expect(missing.stderr).toBe('bmcfleet: error: node ghost does not exist (HTTP 404 Not Found)\n');
    const invalid = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'create', 'n1', '--ipmi-user', 'has space']), 1);
    expect(invalid.stderr).toBe('bmcfleet: error: ipmiUser must be printable ASCII without spaces (HTTP 400 Bad Request)\n');
    expect(expectExit(await bmcfleet(['--url', open.url, 'nodes', 'ls']), 0).stdout).toBe('no nodes\n');
  });

  it('[nodes API] ls pages and filters and create-batch speak the real API: empty pages, its 400s for a bad cursor and a bad batch', async () => {
    expect(expectExit(await bmcfleet(['--url', open.url, 'nodes', 'ls', '--limit', '5', '--machine', 'sim']), 0).stdout).toBe('no nodes\n');
    expect(JSON.parse(expectExit(await bmcfleet(['--url', open.url, 'nodes', 'list', '--limit', '5', '--json']), 0).stdout)).toEqual({ items: [], nextCursor: null });
    expect(JSON.parse(expectExit(await bmcfleet(['--url', open.url, 'nodes', 'ls', '--all', '--power-state', 'on', '--json']), 0).stdout)).toEqual([]);
    const badCursor = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'ls', '--cursor', 'not-a-cursor']), 1);
    expect(badCursor.stderr).toMatch(/^bmcfleet: error: .*cursor.*\(HTTP 400 Bad Request\)\n$/);
    const tooMany = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'create-batch', '--prefix', 'rack1', '--count', '10000000']), 1);
    expect(tooMany.stderr).toMatch(/^bmcfleet: error: count must not be greater than \d+ \(HTTP 400 Bad Request\)\n$/);
    const badPrefix = expectExit(await bmcfleet(['--url', open.url, 'nodes', 'create-batch', '--prefix', 'Rack_1', '--count', '2']), 1);
    expect(badPrefix.stderr).toContain('namePrefix must be');
  });

  it('[nodes API] a wrong or missing token gets the 401 message and how to give the token; the right one works', async () => {
    const wrong = expectExit(await bmcfleet(['--url', guarded.url, '--token', `${TOKEN}x`, 'nodes', 'ls']), 1);
    expect(wrong.stderr).toBe("bmcfleet: error: invalid bearer token (HTTP 401 Unauthorized): give the orchestrator's API token with --token or BMCFLEET_API_TOKEN\n");
    const none = expectExit(await bmcfleet(['--url', guarded.url, 'nodes', 'ls']), 1);
    expect(none.stderr).toContain('bearer token required (HTTP 401 Unauthorized)');
    const fromEnv = expectExit(await bmcfleet(['nodes', 'ls', '--json'], { BMCFLEET_URL: guarded.url, BMCFLEET_API_TOKEN: TOKEN }), 0);
    expect(JSON.parse(fromEnv.stdout)).toEqual([]);
  });
});

/** Docker, the node image and `script` (for a terminal); skipped loudly, or failing under CI=true. */
function describeWithDockerNodes(): jest.Describe {
  const tools = describeWithTools(['docker', 'script']);
  if (tools !== describe) return tools;
  const image = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE], { encoding: 'utf8', timeout: 20_000 });
  if (image.status === 0) return describe;
  const message = `DOCKER ENGINE OR ${NODE_IMAGE} MISSING (${(image.stderr ?? '').trim()}): the CLI's node tests are SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${message}\n\n`);
  return describe.skip;
}

describeWithDockerNodes()('bmcfleet CLI: a sim node from create to rm (Docker)', () => {
  const fleetName = `cli${randomBytes(3).toString('hex')}`;
  const base = randomInt(20_000, 60_000 - 3 * RANGE_WIDTH);
  const ipmiRange = { first: base, last: base + RANGE_WIDTH - 1 };
  const terminals: TerminalSession[] = [];
  let orchestrator: RunningApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    orchestrator = await startOrchestrator({
      API_TOKEN: TOKEN,
      FLEET_NAME: fleetName,
      IPMI_PORT_RANGE: `${ipmiRange.first}-${ipmiRange.last}`,
      VNC_PORT_RANGE: `${base + RANGE_WIDTH}-${base + 2 * RANGE_WIDTH - 1}`,
      REDFISH_PORT_RANGE: `${base + 2 * RANGE_WIDTH}-${base + 3 * RANGE_WIDTH - 1}`,
      NODE_DEFAULTS_ENABLE_KVM: 'false',
      // The table's VNC and host columns are a node container's (a farm node has no VNC console).
      SIM_PLACEMENT: 'container',
    });
    env = { BMCFLEET_URL: orchestrator.url, BMCFLEET_API_TOKEN: TOKEN };
  });

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.kill()));
  });

  afterAll(async () => {
    await orchestrator?.close();
    // Exactly this fleet's objects: its FLEET_NAME prefixes every container and volume name.
    const containers = spawnSync('docker', ['ps', '-aq', '--filter', `name=^/${fleetName}-`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    if (containers.length > 0) execFileSync('docker', ['rm', '-f', '-v', ...containers], { timeout: 60_000 });
    const volumes = spawnSync('docker', ['volume', 'ls', '-q', '--filter', `name=^${fleetName}-`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    if (volumes.length > 0) execFileSync('docker', ['volume', 'rm', '-f', ...volumes], { timeout: 60_000 });
  });

  /** The console of node n1 on a pseudo-terminal. */
  const consoleTerminal = (extraEnv: Record<string, string>): TerminalSession => {
    const t = new TerminalSession([process.execPath, CLI_MAIN, 'nodes', 'console', 'n1', '--sol'], { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...extraEnv });
    terminals.push(t);
    return t;
  };
  /** Waits for a pattern and shows what the terminal printed if it never came. */
  const expectShown = async (t: TerminalSession, pattern: string | RegExp, what: string): Promise<void> => {
    if (!(await t.waitFor(pattern, STEP_MS))) throw new Error(`${what}: ${String(pattern)} did not appear; the terminal showed:\n${JSON.stringify(t.output())}`);
  };
  /** Presses Enter until the sim machine's shell prompt shows (it may have booted before SOL was up). */
  const reachShell = async (t: TerminalSession): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      t.type('\r');
      if (await t.waitFor(/:~# $/, 1_500)) return;
    }
    throw new Error(`no shell prompt on the console:\n${JSON.stringify(t.output())}`);
  };

  it('[nodes API] nodes create makes a running sim node on a leased IPMI port', async () => {
    const r = expectExit(await bmcfleet(['nodes', 'create', 'n1', '--machine', 'sim', '--ipmi-password', IPMI_PASSWORD, '--power-on', '--memory', '256', '--json'], env), 0);
    const node = JSON.parse(r.stdout) as { name: string; state: string; machine: string; ipmi: { host: string; port: number; user: string }; generatedIpmiPassword?: string };
    expect(node).toMatchObject({ name: 'n1', state: 'running', machine: 'sim', ipmi: { host: '127.0.0.1', user: 'admin' } });
    expect(node.ipmi.port).toBeGreaterThanOrEqual(ipmiRange.first);
    expect(node.ipmi.port).toBeLessThanOrEqual(ipmiRange.last);
    expect(node.generatedIpmiPassword).toBeUndefined();
    expect(r.stdout).not.toContain(IPMI_PASSWORD);
  });

  it('[nodes API] nodes ls shows it in the table', async () => {
    const r = expectExit(await bmcfleet(['nodes', 'ls'], env), 0);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+STATE\s+POWER\s+IPMI\s+VNC\s+REDFISH\s+MACHINE\s+HOST$/);
    const cells = /^n1\s+running\s+(on|off|unknown)\s+127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)\s+sim\s+(\S+)$/.exec(row ?? '');
    if (!cells) throw new Error(`unexpected table:\n${r.stdout}`);
    // The Docker runtime's host: the engine's own name (docker info's Name).
    expect(cells[5]).toBe(execFileSync('docker', ['info', '--format', '{{.Name}}'], { encoding: 'utf8', timeout: 20_000 }).trim());
    expect(Number(cells[2])).toBeGreaterThanOrEqual(ipmiRange.first);
    expect(Number(cells[2])).toBeLessThanOrEqual(ipmiRange.last);
    expect(Number(cells[4])).toBeGreaterThanOrEqual(ipmiRange.first + 2 * RANGE_WIDTH);
    expect(Number(cells[4])).toBeLessThan(ipmiRange.first + 3 * RANGE_WIDTH);
    expect(rest).toEqual([]);
  });

  it('[nodes API] nodes power reads and switches power through the BMC', async () => {
    expect(expectExit(await bmcfleet(['nodes', 'power', 'n1', 'status'], env), 0).stdout).toBe('n1: power is on\n');
    expect(expectExit(await bmcfleet(['nodes', 'power', 'n1', 'off'], env), 0).stdout).toBe('n1: power off done, power is off\n');
    expect(expectExit(await bmcfleet(['nodes', 'power', 'n1', 'status'], env), 0).stdout).toBe('n1: power is off\n');
    expect(expectExit(await bmcfleet(['nodes', 'power', 'n1', 'on'], env), 0).stdout).toBe('n1: power on done, power is on\n');
  });

  it('[nodes API] nodes console reaches the shell over SOL with the password from BMCFLEET_IPMI_PASSWORD; ~. ends it (exit 0)', async () => {
    const t = consoleTerminal({ BMCFLEET_IPMI_PASSWORD: IPMI_PASSWORD });
    await expectShown(t, '[console of n1 is up: ~. ends it, ~? lists the escapes]', 'console up');
    await reachShell(t);
    const word = `cli-console-${randomBytes(3).toString('hex')}`;
    t.type(`echo ${word}\r`);
    await expectShown(t, `\r\n${word}\r\n`, 'echo round trip');
    t.type('\r~.');
    expect(await t.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });
    expect(t.output()).toContain('[console of n1 closed]');
  });

  it('[nodes API] nodes console asks for the password without echo on a terminal, and frees SOL for the next console', async () => {
    const t = consoleTerminal({});
    await expectShown(t, 'IPMI password for admin on n1: ', 'password prompt');
    t.type(`${IPMI_PASSWORD}\r`);
    await expectShown(t, '[console of n1 is up', 'console up after the prompt');
    expect(t.output()).not.toContain(IPMI_PASSWORD);
    await reachShell(t);
    t.type('~.');
    expect(await t.waitForExit(STEP_MS)).toEqual({ code: 0, signal: null });

    const wrong = expectExit(await bmcfleet(['nodes', 'console', 'n1', '--sol', '--password', 'not-the-password'], env), 1);
    expect(wrong.stderr).toContain('wrong password or user');
    const noPassword = expectExit(await bmcfleet(['nodes', 'console', 'n1', '--sol'], env), 2);
    expect(noPassword.stderr).toContain('give --password or set BMCFLEET_IPMI_PASSWORD');
  });

  it('[containerlab] containerlab topology writes the node into a topology file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-cli-clab-'));
    try {
      const file = join(dir, 'lab.clab.yml');
      const r = expectExit(await bmcfleet(['containerlab', 'topology', '--nodes', 'n1', '--mode', 'ext-container', '-o', file], env), 0);
      expect(r.stderr).toBe(`topology written to ${file}\n`);
      expect(readFileSync(file, 'utf8')).toContain(`${fleetName}-n1`);
      expect(expectExit(await bmcfleet(['containerlab', 'topology', '--nodes', 'ghost'], env), 1).stderr).toContain('(HTTP 404 Not Found)');
      // A malformed links text is refused before any request, with the orchestrator's own wording.
      expect(expectExit(await bmcfleet(['containerlab', 'topology', '--links', 'n1-eth3'], env), 2).stderr).toMatch(/^bmcfleet: error: link 1 .*a link is two endpoints/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('[nodes API] nodes rm --purge removes the node, its container and its disk', async () => {
    expect(expectExit(await bmcfleet(['nodes', 'rm', 'n1', '--purge'], env), 0).stdout).toBe('node n1 removed, disk deleted\n');
    expect(expectExit(await bmcfleet(['nodes', 'ls'], env), 0).stdout).toBe('no nodes\n');
    expect(spawnSync('docker', ['ps', '-aq', '--filter', `name=^/${fleetName}-`], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expect(expectExit(await bmcfleet(['nodes', 'rm', 'n1'], env), 1).stderr).toContain('(HTTP 404 Not Found)');
  });
});
