/**
 * End-to-end: the README's first command starts on a Debian bookworm machine with no usable Node.js.
 * The set-up's Node.js bootstrap and dependency install (`bash scripts/setup.sh node modules`: the
 * steps `bash scripts/setup.sh` runs before building, through scripts/install-node.sh) run as root in a
 * container from the project's base image (debian:bookworm-slim, scripts/base-image.sh) holding a copy
 * of the working tree as a clone has it (the files git tracks or would add):
 *
 * - with no Node.js at all;
 * - with Debian's nodejs 18 and npm installed, first on PATH before the set-up.
 *
 * Afterwards `node` and `npm` on the default PATH are node-version.env's, and a second run has
 * nothing to do. On the bare machine the set-up's `npm ci` has installed better-sqlite3 for that node
 * (it opens a database); on the machine with node 18 (whose install steps are the same from there on)
 * Debian's node is still installed but no longer the one found, and the declared npm runs the
 * project's `npm ci` (without install scripts: the native build is the first case's).
 *
 * The container reaches Debian's mirror and the npm registry through Docker's default bridge; the
 * host's locally added CA certificates (those scripts/build-image.sh gives image builds, for networks
 * whose proxy re-signs TLS) are trusted inside, as on the host. Ownership: the containers carry
 * bmcfleet.test=1 and this run's label, and afterAll removes them, also when a test failed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, dockerOk, REPO_ROOT, TEST_LABEL } from '../../node-image/test/e2e/node-container';
import { runAsync } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, type RunResult } from '../../node-image/test/support/tools';

const BASE_IMAGE = process.env['BASE_IMAGE'] ?? 'debian:bookworm-slim';
const RUN_LABEL = `bmcfleet.test.run=node-bootstrap-${process.pid}-${randomBytes(4).toString('hex')}`;
const PREFIX = '/usr/local';
/** apt-get, the Node.js download, a C++ tool chain, npm ci and better-sqlite3's compile on a busy 2-core machine. */
const SETUP_TIMEOUT_MS = 1_200_000;
const APT_TIMEOUT_MS = 600_000;
const COPY_TIMEOUT_MS = 120_000;
const CHECK_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = SETUP_TIMEOUT_MS + APT_TIMEOUT_MS + 2 * CHECK_TIMEOUT_MS + 60_000;
/** One SQLite query through the installed better-sqlite3 (a native module) on the installed node. */
const SQLITE_CHECK = `node -e 'const db = require("better-sqlite3")(":memory:"); console.log("sqlite " + db.prepare("select sqlite_version() as v").get().v)'`;

const describeBootstrap = describeWithTools(['docker', 'git', 'tar', 'bash']);

/** node-version.env's pins (KEY=VALUE lines). */
function nodePins(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'node-version.env'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function expectOk(r: RunResult, what: string): RunResult {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** The host's extra CA certificates as scripts/build-image.sh passes them to image builds (PEM text, maybe empty). */
async function hostExtraCas(): Promise<string> {
  const script = 'source "$1/scripts/build-image.sh" && _build_image_extra_cas';
  return expectOk(await runAsync('bash', ['-c', script, 'bash', REPO_ROOT], { timeoutMs: CHECK_TIMEOUT_MS }), 'reading the host CAs').stdout;
}

/** A bookworm machine: a container of the base image, the working tree in /src, the host's CAs in Debian's place for local CAs. */
class Machine {
  private constructor(readonly name: string, private readonly env: string[]) {}

  static async start(role: string, cas: string): Promise<Machine> {
    const name = `bmcfleet-node-bootstrap-${role}-${randomBytes(4).toString('hex')}`;
    await dockerOk(['run', '-d', '--name', name, '--label', TEST_LABEL, '--label', RUN_LABEL, BASE_IMAGE, 'sleep', 'infinity']);
    // Node reads extra CAs only from NODE_EXTRA_CA_CERTS: the bundle ca-certificates builds from them.
    const machine = new Machine(name, cas === '' ? [] : ['-e', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt']);
    const copy = 'cd "$1" && git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - '
      + '| docker exec -i "$2" sh -c "mkdir /src && tar -xf - -C /src"';
    expectOk(await runAsync('bash', ['-c', copy, 'bash', REPO_ROOT, name], { timeoutMs: COPY_TIMEOUT_MS }), 'copying the working tree');
    if (cas !== '') {
      const write = 'printf "%s" "$2" | docker exec -i "$1" sh -c "mkdir -p /usr/local/share/ca-certificates && cat >/usr/local/share/ca-certificates/host-extra.crt"';
      expectOk(await runAsync('bash', ['-c', write, 'bash', name, cas], { timeoutMs: CHECK_TIMEOUT_MS }), 'copying the host CAs');
    }
    return machine;
  }

  /** `bash -c SCRIPT` as root in /src, with the default PATH of a Debian root shell. */
  sh(script: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<RunResult> {
    return docker(['exec', ...this.env, '-w', '/src', this.name, 'bash', '-c', script], timeoutMs);
  }

  /** `bash scripts/setup.sh STEPS`, which must succeed; its output. */
  async setup(steps: string): Promise<string> {
    return expectOk(await this.sh(`bash scripts/setup.sh ${steps}`, SETUP_TIMEOUT_MS), `bash scripts/setup.sh ${steps}`).stdout;
  }
}

describeBootstrap("the set-up's Node.js bootstrap on Debian bookworm", () => {
  const pins = nodePins();
  const nodeVersion = pins['NODE_VERSION']!;
  const npmVersion = pins['NPM_VERSION']!;
  let cas = '';

  beforeAll(async () => {
    expect(nodeVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const base = await docker(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]);
    if (base.status !== 0) throw new Error(`the base image ${BASE_IMAGE} is missing: run "bash scripts/base-image.sh"`);
    cas = await hostExtraCas();
  });

  afterAll(async () => {
    const ids = (await docker(['ps', '-aq', '--filter', `label=${RUN_LABEL}`])).stdout.split('\n').filter((id) => id !== '');
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  });

  /** node and npm on PATH are the declared ones, in PREFIX. */
  async function expectDeclaredNode(machine: Machine): Promise<void> {
    const r = expectOk(await machine.sh('command -v node npm; node --version; npm --version'), 'checking node');
    expect(r.stdout.trim().split('\n')).toEqual([`${PREFIX}/bin/node`, `${PREFIX}/bin/npm`, `v${nodeVersion}`, npmVersion]);
  }

  it('with no Node.js: installs the declared node and npm, then npm ci for it', async () => {
    const machine = await Machine.start('bare', cas);
    expect((await machine.sh('command -v node npm')).status).not.toBe(0);

    const out = await machine.setup('node modules');
    expect(out).toContain(`setup: no node on PATH: installing node ${nodeVersion} in ${PREFIX}`);
    expect(out).toContain(`install-node: installed node v${nodeVersion} and npm ${npmVersion} in ${PREFIX}`);
    expect(out).toContain(`setup: npm ci (node v${nodeVersion})`);
    await expectDeclaredNode(machine);
    expect(expectOk(await machine.sh(SQLITE_CHECK), 'better-sqlite3').stdout.trim()).toMatch(/^sqlite 3\.\d+\.\d+$/);

    const again = await machine.setup('node modules');
    expect(again).toContain(`setup: node ${nodeVersion} (${PREFIX}/bin/node), npm ${npmVersion}`);
    expect(again).toContain(`setup: node_modules matches package-lock.json and node v${nodeVersion}`);
    expect(again).not.toMatch(/installing|npm ci/);
  }, TEST_TIMEOUT_MS);

  it("with Debian's nodejs 18 on PATH: puts the declared node first, leaves Debian's installed", async () => {
    const machine = await Machine.start('debian-node18', cas);
    const apt = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null && command -v node && node --version';
    const before = expectOk(await machine.sh(apt, APT_TIMEOUT_MS), "installing Debian's nodejs and npm").stdout.trim().split('\n');
    expect(before.slice(-2)).toEqual(['/usr/bin/node', expect.stringMatching(/^v18\.\d+\.\d+$/)]);
    const old = before[before.length - 1]!.slice(1);

    const out = await machine.setup('node');
    expect(out).toContain(`setup: node ${old} (/usr/bin/node) is older than ${nodeVersion} (node-version.env): installing node ${nodeVersion} in ${PREFIX}`);
    await expectDeclaredNode(machine);
    expect(expectOk(await machine.sh('/usr/bin/node --version'), "Debian's node").stdout.trim()).toBe(`v${old}`);
    expectOk(await machine.sh('npm ci --ignore-scripts --no-audit --no-fund', SETUP_TIMEOUT_MS), 'npm ci');
    expect(expectOk(await machine.sh('node -p "require(\'typescript\').version"'), 'a package npm ci installed').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const again = await machine.setup('node');
    expect(again).toContain(`setup: node ${nodeVersion} (${PREFIX}/bin/node), npm ${npmVersion}`);
    expect(again).not.toMatch(/installing/);
  }, TEST_TIMEOUT_MS);
});
