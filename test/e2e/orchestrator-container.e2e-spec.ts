/**
 * End-to-end: the orchestrator image (Dockerfile.orchestrator, built by
 * scripts/build-orchestrator-image.sh) run with the settings of docker-compose.yml, through plain
 * `docker run` (the compose plugin is not installed on every machine): the host's network, the Docker
 * socket with its group, a named volume for /data, the compose file's environment with its defaults.
 * The run arguments are derived from the parsed compose file, and a separate test pins what that file
 * must say, so the two cannot drift apart.
 *
 * Through the containerized orchestrator it creates a MACHINE=sim node, finds its container on the
 * host engine with the orchestrator's labels (and without the Docker socket), talks to the node's BMC
 * with the project's IpmiClient on the published port, powers it on through the API (the orchestrator
 * reaches the BMC on 127.0.0.1 only because it shares the host's network), deletes it with purge and
 * sees container and volume go.
 *
 * Ownership: the orchestrator container and its data volume carry bmcfleet.test=1 and this run's
 * label; the nodes it creates carry the orchestrator's own labels under a FLEET_NAME unique to the run.
 * afterAll removes all of them, also when a test failed. Every wait is bounded by count and time.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { IpmiClient } from '../../node-image/src/client';
import { docker, dockerOk, NODE_IMAGE, REPO_ROOT, TEST_LABEL } from '../../node-image/test/e2e/node-container';
import { runAsync, sleep } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { ENV_DEFAULTS } from '../../src/config/env.schema';
import { LABELS } from '../../src/docker/docker-adapter';

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'build-orchestrator-image.sh');
const SERVICE = 'orchestrator';
const DOCKER_SOCKET = '/var/run/docker.sock';
const DATA_TARGET = '/data';
/** The non-root user Dockerfile.orchestrator runs as. */
const ORCHESTRATOR_USER = '10001:10001';

/** A cold build compiles better-sqlite3 and installs ~600 packages; a warm one takes seconds. */
const BUILD_TIMEOUT_MS = 1_200_000;
const START_TIMEOUT_MS = 90_000;
/** Docker's first health check runs one interval (15 s) after the start; three tries fit easily. */
const HEALTHY_TIMEOUT_MS = 120_000;
const BMC_TIMEOUT_MS = 60_000;
const REMOVAL_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 500;
/** Ports leased to this run's nodes: a random block well below the ephemeral range (PORT's source). */
const LEASE_BLOCK_FIRST = 20_000;
const LEASE_BLOCK_SPAN = 9_000;
const LEASE_RANGE_SIZE = 20;

const describeOrchestrator = describeWithTools(['docker', 'bash']);

// ------------------------------------------------------------------------------------------------
// docker-compose.yml, read and turned into `docker run` arguments (pure).

interface ComposeService {
  readonly image: string;
  readonly build: { readonly context: string; readonly dockerfile: string };
  readonly networkMode: string;
  readonly restart: string;
  readonly groupAdd: readonly string[];
  readonly volumes: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** Keys present on the service (to check that nothing else, e.g. ports or privileged, is set). */
  readonly keys: readonly string[];
  /** Named volumes declared at the top level. */
  readonly declaredVolumes: readonly string[];
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} must be a mapping`);
  return value as Record<string, unknown>;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function asStrings(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new Error(`${what} must be a list`);
  return value.map((item, index) => asString(item, `${what}[${index}]`));
}

function readComposeService(text: string): ComposeService {
  const root = asRecord(parse(text), 'docker-compose.yml');
  const service = asRecord(asRecord(root['services'], 'services')[SERVICE], `services.${SERVICE}`);
  const build = asRecord(service['build'], 'build');
  const environment = asRecord(service['environment'], 'environment (a mapping, not a list)');
  return {
    image: asString(service['image'], 'image'),
    build: { context: asString(build['context'], 'build.context'), dockerfile: asString(build['dockerfile'], 'build.dockerfile') },
    networkMode: asString(service['network_mode'], 'network_mode'),
    restart: asString(service['restart'], 'restart'),
    groupAdd: asStrings(service['group_add'] ?? [], 'group_add'),
    volumes: asStrings(service['volumes'], 'volumes'),
    environment: Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, asString(value, `environment.${key}`)])),
    keys: Object.keys(service).sort(),
    declaredVolumes: Object.keys(asRecord(root['volumes'] ?? {}, 'volumes')),
  };
}

/** Compose's variable substitution: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}. */
function interpolate(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_match, name: string, op: string | undefined, arg: string | undefined) => {
    const value = vars[name];
    const missing = op?.startsWith(':') === true ? value === undefined || value === '' : value === undefined;
    if (op?.endsWith('?') === true && missing) throw new Error(`compose variable ${name} is required: ${arg ?? ''}`);
    if (op?.endsWith('-') === true && missing) return arg ?? '';
    return value ?? '';
  });
}

/** `${NAME:-default}` → default; null when the value is not of that form. */
function composeDefault(value: string, name: string): string | null {
  const match = new RegExp(`^\\$\\{${name}:-([^}]*)\\}$`).exec(value);
  return match?.[1] ?? null;
}

interface RunContext {
  readonly containerName: string;
  readonly labels: readonly string[];
  /** Replaces the compose file's named volume(s), so the test never touches an operator's data. */
  readonly dataVolume: string;
  readonly vars: Readonly<Record<string, string | undefined>>;
}

/** The `docker run` equivalent of `docker compose up` for the service. */
function dockerRunArgs(service: ComposeService, context: RunContext): string[] {
  const volumes = service.volumes.map((spec) => {
    const [source = '', ...rest] = interpolate(spec, context.vars).split(':');
    return source.startsWith('/') || source.startsWith('.') ? [source, ...rest].join(':') : [context.dataVolume, ...rest].join(':');
  });
  return [
    'run', '-d', '--name', context.containerName,
    ...context.labels.flatMap((label) => ['--label', label]),
    '--network', service.networkMode,
    '--restart', service.restart,
    ...service.groupAdd.flatMap((group) => ['--group-add', interpolate(group, context.vars)]),
    ...volumes.flatMap((volume) => ['-v', volume]),
    ...Object.entries(service.environment).flatMap(([key, value]) => ['-e', `${key}=${interpolate(value, context.vars)}`]),
    service.image,
  ];
}

// ------------------------------------------------------------------------------------------------
// Helpers with I/O.

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function range(first: number, size: number): string {
  return `${first}-${first + size - 1}`;
}

interface HttpResult {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

async function http(method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

function describeHttp(what: string, r: HttpResult): string {
  return `${what}: HTTP ${r.status} ${r.text.slice(0, 2000)}`;
}

/** Polls `probe` until it returns a value (not undefined), bounded by attempts and time. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const attempts = Math.ceil(timeoutMs / POLL_INTERVAL_MS) + 1;
  let lastError = '';
  for (let attempt = 0; attempt < attempts && Date.now() <= deadline; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === '' ? '' : ` (last error: ${lastError})`}`);
}

async function containerExists(nameOrId: string): Promise<boolean> {
  return (await docker(['container', 'inspect', nameOrId])).status === 0;
}

async function volumeExists(name: string): Promise<boolean> {
  return (await docker(['volume', 'inspect', name])).status === 0;
}

interface InspectedNode {
  readonly Id: string;
  readonly Name: string;
  readonly Config: { readonly Labels: Record<string, string> | null; readonly Env: string[] | null };
  readonly Mounts: { readonly Type: string; readonly Name?: string; readonly Source: string; readonly Destination: string }[];
  readonly NetworkSettings: { readonly Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

async function inspectContainer(nameOrId: string): Promise<InspectedNode> {
  const list = JSON.parse(await dockerOk(['container', 'inspect', nameOrId])) as InspectedNode[];
  const first = list[0];
  if (first === undefined) throw new Error(`docker inspect ${nameOrId} returned nothing`);
  return first;
}

// ------------------------------------------------------------------------------------------------

describeOrchestrator('orchestrator image run as docker-compose.yml runs it', () => {
  const runId = randomBytes(4).toString('hex');
  const runLabel = `bmcfleet.test.run=e2e-orchestrator-${process.pid}-${runId}`;
  const fleetName = `e2e-orch-${runId}`;
  const containerName = `bmcfleet-e2e-orchestrator-${runId}`;
  const dataVolume = `bmcfleet-e2e-orchestrator-data-${runId}`;
  const apiToken = randomBytes(16).toString('hex');
  const service = readComposeService(readFileSync(COMPOSE_FILE, 'utf8'));
  let baseUrl = '';
  let socketGroup = '';
  /** Fleet ids seen on this run's node containers (cleanup removes their volumes by label too). */
  const fleetIds = new Set<string>();

  async function orchestratorLogs(): Promise<string> {
    const r = await docker(['logs', '--tail', '200', containerName]);
    return `${r.stdout}${r.stderr}`;
  }

  /** Adds the orchestrator's log to a failure: the interesting half of the story is in there. */
  async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const logs = await orchestratorLogs().catch(() => '(docker logs failed)');
      if (error instanceof Error) error.message += `\n--- orchestrator log (last lines)\n${logs}`;
      throw error;
    }
  }

  /** Removes, never throwing: the orchestrator first (so it cannot repair nodes), then nodes, then volumes. */
  async function cleanup(): Promise<void> {
    const ours = await docker(['ps', '-aq', '--filter', `label=${runLabel}`]);
    const ids = ours.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
    const managed = await docker(['ps', '-a', '--filter', `label=${LABELS.managed}=true`, '--format', '{{.ID}} {{.Names}}']);
    const nodeIds: string[] = [];
    for (const line of managed.stdout.split('\n')) {
      const [id, name] = line.trim().split(' ');
      if (id !== undefined && name?.startsWith(`${fleetName}-`) === true) nodeIds.push(id);
    }
    for (const id of nodeIds) {
      const labels = await docker(['inspect', '--format', `{{index .Config.Labels "${LABELS.fleet}"}}`, id]);
      if (labels.status === 0 && labels.stdout.trim() !== '') fleetIds.add(labels.stdout.trim());
    }
    if (nodeIds.length > 0) await docker(['rm', '-f', ...nodeIds]);
    const volumes = new Set<string>([dataVolume]);
    const byName = await docker(['volume', 'ls', '-q', '--filter', `name=${fleetName}-`]);
    byName.stdout.split('\n').map((s) => s.trim()).filter((name) => name.startsWith(`${fleetName}-`)).forEach((name) => volumes.add(name));
    for (const fleetId of fleetIds) {
      const byFleet = await docker(['volume', 'ls', '-q', '--filter', `label=${LABELS.fleet}=${fleetId}`]);
      byFleet.stdout.split('\n').map((s) => s.trim()).filter(Boolean).forEach((name) => volumes.add(name));
    }
    for (const volume of volumes) await docker(['volume', 'rm', '-f', volume]);
  }

  beforeAll(async () => {
    const build = await runAsync('bash', [BUILD_SCRIPT], {
      timeoutMs: BUILD_TIMEOUT_MS - 60_000,
      env: { ...process.env, ORCHESTRATOR_IMAGE_TAG: service.image },
    });
    if (build.status !== 0) throw new Error(`${BUILD_SCRIPT} failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
    process.stderr.write(`${build.stdout.trim()}\n`);
    const nodeImage = await docker(['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE]);
    if (nodeImage.status !== 0) throw new Error(`the node image ${NODE_IMAGE} is missing: run "npm run build:image"`);

    socketGroup = (await runAsync('stat', ['-c', '%g', DOCKER_SOCKET])).stdout.trim();
    if (!/^[0-9]+$/.test(socketGroup)) throw new Error(`cannot read the group of ${DOCKER_SOCKET}`);
    const port = await freeTcpPort();
    const leaseFirst = LEASE_BLOCK_FIRST + Math.floor(Math.random() * (LEASE_BLOCK_SPAN / (3 * LEASE_RANGE_SIZE))) * 3 * LEASE_RANGE_SIZE;
    await dockerOk(['volume', 'create', '--label', TEST_LABEL, '--label', runLabel, dataVolume]);
    const args = dockerRunArgs(service, {
      containerName,
      labels: [TEST_LABEL, runLabel],
      dataVolume,
      vars: {
        DOCKER_GID: socketGroup,
        PORT: String(port),
        API_TOKEN: apiToken,
        FLEET_NAME: fleetName,
        RECONCILE_INTERVAL_S: '2',
        IPMI_PORT_RANGE: range(leaseFirst, LEASE_RANGE_SIZE),
        VNC_PORT_RANGE: range(leaseFirst + LEASE_RANGE_SIZE, LEASE_RANGE_SIZE),
        REDFISH_PORT_RANGE: range(leaseFirst + 2 * LEASE_RANGE_SIZE, LEASE_RANGE_SIZE),
        FLEET_REDFISH_PORT: 'none',
        NODE_DEFAULTS_ENABLE_KVM: 'false',
        // The sim node's own container is what this test inspects (a farm node has none).
        SIM_PLACEMENT: 'container',
      },
    });
    await dockerOk(args);
    baseUrl = `http://127.0.0.1:${port}`;
    await withLogs(() =>
      waitFor('GET /healthz of the containerized orchestrator', START_TIMEOUT_MS, async () => {
        const running = await docker(['inspect', '--format', '{{.State.Running}} {{.RestartCount}}', containerName]);
        if (running.stdout.trim() !== 'true 0') throw new Error(`the orchestrator container is not running (running, restarts: ${running.stdout.trim()})`);
        return (await http('GET', `${baseUrl}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined;
      }),
    );
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await cleanup();
  }, REMOVAL_TIMEOUT_MS * 2);

  it('docker-compose.yml says what this test runs: host network, socket, /data volume, design defaults', () => {
    expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile.orchestrator' });
    expect(service.image).toBe('bmcfleet/orchestrator:latest');
    expect(service.networkMode).toBe('host');
    expect(service.restart).toBe('unless-stopped');
    // Host networking publishes nothing; the orchestrator is never privileged.
    expect(service.keys).toEqual(['build', 'environment', 'group_add', 'image', 'network_mode', 'restart', 'volumes']);
    expect(service.groupAdd).toHaveLength(1);
    expect(() => interpolate(service.groupAdd[0] ?? '', {})).toThrow(/DOCKER_GID is required/);
    expect(service.volumes).toContain(`${DOCKER_SOCKET}:${DOCKER_SOCKET}`);
    // ISO_DIR is bound at the same path inside as on the host: the engine binds ISOs by that path.
    expect(service.volumes).toContain('${ISO_DIR:-/srv/bmcfleet/iso}:${ISO_DIR:-/srv/bmcfleet/iso}:ro');
    expect(composeDefault(service.environment['ISO_DIR'] ?? '', 'ISO_DIR')).toBe('/srv/bmcfleet/iso');
    const named = service.volumes.filter((spec) => !interpolate(spec, {}).startsWith('/'));
    expect(named).toHaveLength(1);
    const [volumeName, target] = (named[0] ?? '').split(':');
    expect(target).toBe(DATA_TARGET);
    expect(service.declaredVolumes).toEqual([volumeName]);
    expect(service.environment['DATA_DIR']).toBe(DATA_TARGET);
    // Every other orchestrator variable is passed through with design.md's default.
    for (const [name, value] of Object.entries(ENV_DEFAULTS)) {
      if (name === 'DATA_DIR') continue;
      expect({ name, default: composeDefault(service.environment[name] ?? '', name) }).toEqual({ name, default: value });
    }
    expect(composeDefault(service.environment['API_TOKEN'] ?? '', 'API_TOKEN')).toBe('');
    expect(composeDefault(service.environment['NODE_DEFAULTS_ENABLE_KVM'] ?? '', 'NODE_DEFAULTS_ENABLE_KVM')).toBe('auto');
  });

  it('runs as uid 10001 with the Docker socket group, on the host network, data on a named volume', async () => {
    const inspected = JSON.parse(await dockerOk(['container', 'inspect', containerName])) as {
      Config: { User: string };
      HostConfig: { NetworkMode: string; GroupAdd: string[] | null; Privileged: boolean; RestartPolicy: { Name: string } };
      Mounts: { Type: string; Name?: string; Source: string; Destination: string }[];
    }[];
    const container = inspected[0];
    expect(container).toBeDefined();
    expect(container?.Config.User).toBe(ORCHESTRATOR_USER);
    expect(container?.HostConfig.NetworkMode).toBe('host');
    expect(container?.HostConfig.Privileged).toBe(false);
    expect(container?.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    expect(container?.HostConfig.GroupAdd).toEqual([socketGroup]);
    expect(container?.Mounts.find((m) => m.Destination === DATA_TARGET)).toMatchObject({ Type: 'volume', Name: dataVolume });
    const id = await dockerOk(['exec', containerName, 'id', '-G']);
    expect(id.trim().split(' ')).toContain(socketGroup);
  });

  it('serves /healthz and the OpenAPI document from the container', async () => {
    const health = await http('GET', `${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
    const docs = await http('GET', `${baseUrl}/api/docs-json`, { token: apiToken });
    expect(docs.status).toBe(200);
    const document = JSON.parse(docs.text) as { openapi?: string; paths?: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths ?? {})).toContain('/healthz');
  });

  it('serves Prometheus metrics on /metrics', async () => {
    const metrics = await http('GET', `${baseUrl}/metrics`, { token: apiToken });
    expect(describeHttp('GET /metrics', metrics)).toMatch(/^GET \/metrics: HTTP 200 /);
    expect(metrics.contentType).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^# (HELP|TYPE) /m);
  });

  it('reports healthy to Docker (the image HEALTHCHECK asks /healthz on PORT)', async () => {
    const status = await waitFor('Docker health status "healthy"', HEALTHY_TIMEOUT_MS, async () => {
      const health = (await dockerOk(['inspect', '--format', '{{.State.Health.Status}}', containerName])).trim();
      if (health === 'unhealthy') throw new Error('Docker reports the container unhealthy');
      return health === 'healthy' ? health : undefined;
    });
    expect(status).toBe('healthy');
  });

  it('creates a sim node in the host engine, whose BMC answers; powers it on through the API; deletes it with its volume', async () => {
    await withLogs(async () => {
      const name = `sim-${runId}`;
      const ipmiPassword = randomBytes(8).toString('hex');

      const unauthorized = await http('GET', `${baseUrl}/api/v1/nodes`);
      expect(unauthorized.status).toBe(401);

      const created = await http('POST', `${baseUrl}/api/v1/nodes`, { token: apiToken, body: { name, machine: 'sim', ipmiPassword } });
      expect(describeHttp('POST /api/v1/nodes', created)).toMatch(/: HTTP 201 /);
      const node = JSON.parse(created.text) as { name: string; ipmi: { host: string; port: number; user: string } };
      expect(node.name).toBe(name);
      expect(node.ipmi.host).toBe('127.0.0.1');
      expect(created.text).not.toContain(ipmiPassword);

      // Its container, on the host's engine, labelled by the orchestrator; never the Docker socket.
      const listed = await dockerOk(['ps', '-aq', '--filter', `label=${LABELS.managed}=true`, '--filter', `label=${LABELS.node}=${name}`]);
      const ids = listed.split('\n').map((s) => s.trim()).filter(Boolean);
      expect(ids).toHaveLength(1);
      const container = await inspectContainer(ids[0] ?? '');
      const labels = container.Config.Labels ?? {};
      expect(container.Name).toBe(`/${fleetName}-${name}`);
      expect(labels[LABELS.node]).toBe(name);
      expect(labels[LABELS.role]).toBe('node');
      expect(labels[LABELS.fleet]).toMatch(/\S/);
      fleetIds.add(labels[LABELS.fleet] ?? '');
      expect(container.Mounts.map((m) => m.Source)).not.toContain(DOCKER_SOCKET);
      expect(container.Config.Env ?? []).toContain('MACHINE=sim');
      expect(container.NetworkSettings.Ports?.[`${node.ipmi.port}/udp`]).toEqual([{ HostIp: '127.0.0.1', HostPort: String(node.ipmi.port) }]);
      const vmVolume = container.Mounts.find((m) => m.Destination === '/vm');
      expect(vmVolume?.Type).toBe('volume');

      // The orchestrator's database lives in the /data volume.
      await dockerOk(['exec', containerName, 'test', '-s', `${DATA_TARGET}/bmcfleet.db`]);

      // The node's BMC on the published port, with the project's own IPMI client.
      const bmc = { host: node.ipmi.host, port: node.ipmi.port, user: node.ipmi.user, password: ipmiPassword, timeoutMs: 1500, retries: 3 };
      const powerStatus = async (): Promise<'on' | 'off'> => {
        const client = await IpmiClient.connect(bmc);
        try {
          return await client.powerStatus();
        } finally {
          await client.close().catch(() => undefined);
        }
      };
      expect(await waitFor(`the BMC of ${name} on 127.0.0.1:${node.ipmi.port}`, BMC_TIMEOUT_MS, powerStatus)).toBe('off');

      // Power through the API: the containerized orchestrator reaches the same published port.
      const power = await http('POST', `${baseUrl}/api/v1/nodes/${name}/power`, { token: apiToken, body: { action: 'on' } });
      expect(describeHttp(`POST /api/v1/nodes/${name}/power`, power)).toMatch(/: HTTP 20[0-4] /);
      expect(await waitFor(`power on of ${name}`, BMC_TIMEOUT_MS, async () => ((await powerStatus()) === 'on' ? 'on' : undefined))).toBe('on');

      const fetched = await http('GET', `${baseUrl}/api/v1/nodes/${name}`, { token: apiToken });
      expect(fetched.status).toBe(200);

      const deleted = await http('DELETE', `${baseUrl}/api/v1/nodes/${name}?purge=true`, { token: apiToken });
      expect(describeHttp(`DELETE /api/v1/nodes/${name}?purge=true`, deleted)).toMatch(/: HTTP 204 /);
      await waitFor(`removal of container ${container.Name}`, REMOVAL_TIMEOUT_MS, async () => ((await containerExists(container.Id)) ? undefined : true));
      if (vmVolume?.Name !== undefined) {
        const volume = vmVolume.Name;
        await waitFor(`removal of volume ${volume}`, REMOVAL_TIMEOUT_MS, async () => ((await volumeExists(volume)) ? undefined : true));
      }
      expect((await http('GET', `${baseUrl}/api/v1/nodes/${name}`, { token: apiToken })).status).toBe(404);
    });
  });

  it('runs its shutdown hooks on docker stop (tini forwards SIGTERM)', async () => {
    await dockerOk(['stop', '-t', '30', containerName], 60_000);
    expect(await orchestratorLogs()).toContain('stopped on SIGTERM');
  });
});
