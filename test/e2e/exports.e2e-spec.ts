/**
 * The hand-off end to end: the orchestrator as users run it, two MACHINE=sim nodes created through
 * the API in the real Docker engine, once placed in a farm (SIM_PLACEMENT=farm, the default: their
 * BMCs live in one farm container) and once as containers of their own (SIM_PLACEMENT=container), the exports taken with the `bmcfleet` CLI (stdout and -o) and
 * over HTTP, then every exported address driven with the exported credentials by the client the
 * provisioning system itself uses:
 *
 * - Metal3 ipmi:// + its Secret, Ironic's ipmi driver_info → ipmitool -I lanplus (Ironic's ipmitool driver);
 * - MAAS ipmi power_parameters → ipmipower exactly as MAAS's IPMI driver runs it (-W opensesspriv,
 *   --driver-type, -h host:port, -I, -l);
 * - Ironic's redfish driver_info and Metal3's redfish-virtualmedia:// address → sushy (Ironic's
 *   Redfish library, verify off as the export says), which also reads the EthernetInterfaces: the
 *   BMC's MACs are the exported ports, bootMACAddress and mac_addresses, each in the node's own
 *   allocated block (52:55:<macId>:<NIC>), farm BMC or container alike;
 * - MAAS redfish → an HTTPS GET of /redfish/v1/Systems/<node_id> with Basic auth, as MAAS's driver does.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runAsync } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, run } from '../../node-image/test/support/tools';
import { ironicResourcesErrors, maasMachinesErrors, metal3HostErrors, credentialsSecretErrors } from '../fixtures/exports/provisioning-schemas';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess, REPO_ROOT } from './support/orchestrator-process';

jest.setTimeout(600_000);

const CLI_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const PASSWORDS: Record<string, string> = { 'hand-a': 'hand-off-pass-a', 'hand-b': 'hand:off pass-b' };

type Json = Record<string, any>;

/** python3-sushy as Debian ships it; missing → skipped loudly, or failed under CI=true. */
function describeWithClients(): jest.Describe {
  if (run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0) return describeWithTools(['docker', 'ipmitool', 'ipmipower', 'curl']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): export e2e tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

/** sushy against one system: its power state and the MACs of its EthernetInterfaces. */
const SUSHY_PROBE = `
import json, sys, sushy
base, system_id, user, password = sys.argv[1:5]
root = sushy.Sushy(base + '/redfish/v1', username=user, password=password, verify=False)
system = root.get_system(system_id)
macs = sorted(nic.mac_address.lower() for nic in system.ethernet_interfaces.get_members())
power = getattr(system.power_state, 'value', system.power_state)
print(json.dumps({'power': str(power), 'macs': macs}))
`;

function sushyProbe(base: string, systemId: string, user: string, password: string): { power: string; macs: string[] } {
  const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', '-c', SUSHY_PROBE, base, systemId, user, password], { timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`sushy against ${base}${systemId} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { power: string; macs: string[] };
}

async function ipmitoolPowerStatus(host: string, port: number, user: string, password: string): Promise<string> {
  const r = await runAsync('ipmitool', ['-I', 'lanplus', '-H', host, '-p', String(port), '-U', user, '-P', password, 'power', 'status'], { timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`ipmitool ${host}:${port} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

describeWithClients().each(['farm', 'container'] as const)('exports (SIM_PLACEMENT=%s): Metal3, Ironic and MAAS files whose addresses and credentials work', (placement) => {
  const fleet = new OrchestratorProcess(newFleetSettings(6, { RECONCILE_INTERVAL_S: '0', SIM_PLACEMENT: placement }));
  const macsByNode: Record<string, string[]> = {};

  async function cli(args: string[]): Promise<string> {
    const r = await runAsync(process.execPath, [CLI_MAIN, '--url', fleet.url, ...args], { timeoutMs: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    if (r.status !== 0) throw new Error(`bmcfleet ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
    return r.stdout;
  }

  beforeAll(async () => {
    buildOrchestrator();
    await fleet.start();
    for (const name of Object.keys(PASSWORDS)) {
      const created = await fleet.request<Json>('POST', '/api/v1/nodes', { name, machine: 'sim', ipmiPassword: PASSWORDS[name], bootMode: name === 'hand-a' ? 'uefi' : 'bios' });
      if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      if ((created.body['farm'] === null) !== (placement === 'container')) throw new Error(`create ${name}: placed in farm ${String(created.body['farm'])}, expected ${placement} placement`);
    }
  });
  afterAll(() => fleet.cleanup());

  it('Ironic (CLI -o, owner-only file): ipmitool and sushy reach every node with the exported driver_info; its ports are the BMC\'s MACs', async () => {
    const file = join(fleet.settings.dataDir, 'nodes.json');
    for (const driver of ['ipmi', 'redfish'] as const) {
      await cli(['export', 'ironic', '--driver', driver, '--name', 'hand-', '-o', file]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const resources = JSON.parse(run('cat', [file]).stdout) as { nodes: Json[] };
      expect(ironicResourcesErrors(resources)).toEqual([]);
      expect(resources.nodes.map((n) => n['name'])).toEqual(['hand-a', 'hand-b']);
      for (const node of resources.nodes) {
        const info = node['driver_info'];
        if (driver === 'ipmi') {
          expect(await ipmitoolPowerStatus(info.ipmi_address, info.ipmi_port, info.ipmi_username, info.ipmi_password)).toBe('Chassis Power is off');
        } else {
          const probe = sushyProbe(info.redfish_address, info.redfish_system_id, info.redfish_username, info.redfish_password);
          expect(probe.power).toBe('Off');
          const ports = (node['ports'] as Json[]).map((p) => String(p['address']).toLowerCase()).sort();
          expect(probe.macs).toEqual(ports);
          expect(ports.length).toBeGreaterThan(0);
          // The node's allocated MAC block (Node.macId), not a MAC derived from its name.
          expect(ports.every((mac) => mac.startsWith('52:55:'))).toBe(true);
          macsByNode[node['name']] = ports;
        }
      }
    }
  });

  it('Metal3 (CLI stdout): the manifests pass the CRD; ipmi:// and redfish-virtualmedia:// answer to the Secret\'s credentials; bootMACAddress is the BMC\'s', async () => {
    for (const driver of ['ipmi', 'redfish-virtualmedia'] as const) {
      const yaml = await cli(['export', 'metal3', '--driver', driver, '--names', 'hand-a,hand-b', '--namespace', 'metal3']);
      const documents = parseAllDocuments(yaml, { version: '1.1' }).map((d) => d.toJS() as Json);
      const secrets = new Map(documents.filter((d) => d['kind'] === 'Secret').map((d) => [d['metadata'].name as string, d]));
      const hosts = documents.filter((d) => d['kind'] === 'BareMetalHost');
      expect(hosts.map((h) => h['metadata'].name)).toEqual(['hand-a', 'hand-b']);
      for (const host of hosts) {
        expect(metal3HostErrors(host)).toEqual([]);
        const secret = secrets.get(host['spec'].bmc.credentialsName)!;
        expect(credentialsSecretErrors(secret)).toEqual([]);
        const user = Buffer.from(secret['data'].username, 'base64').toString('utf8');
        const password = Buffer.from(secret['data'].password, 'base64').toString('utf8');
        expect(password).toBe(PASSWORDS[host['metadata'].name]);
        const address = new URL(host['spec'].bmc.address as string);
        if (driver === 'ipmi') {
          expect(address.protocol).toBe('ipmi:');
          expect(await ipmitoolPowerStatus(address.hostname, Number(address.port), user, password)).toBe('Chassis Power is off');
        } else {
          // baremetal-operator: redfish-virtualmedia://host:port/path → https://host:port, system id = path.
          expect(address.protocol).toBe('redfish-virtualmedia:');
          expect(host['spec'].bmc.disableCertificateVerification).toBe(true);
          const probe = sushyProbe(`https://${address.host}`, address.pathname, user, password);
          expect(probe.power).toBe('Off');
          expect(probe.macs[0]).toBe(String(host['spec'].bootMACAddress).toLowerCase());
        }
      }
    }
  });

  it('MAAS (HTTP): ipmipower as MAAS runs it and Redfish Basic auth reach every node with the exported power_parameters', async () => {
    const ipmi = await fleet.request<{ machines: Json[] }>('GET', '/api/v1/exports/maas?driver=ipmi');
    expect(ipmi.status).toBe(200);
    expect(maasMachinesErrors(ipmi.body)).toEqual([]);
    for (const machine of ipmi.body.machines) {
      const p = machine['power_parameters'];
      // MAAS src/provisioningserver/drivers/power/ipmi.py, _issue_ipmi_command: the same arguments.
      const r = await runAsync('ipmipower', ['-W', 'opensesspriv', '--driver-type', p.power_driver, '-h', p.power_address, '-u', p.power_user, '-p', p.power_pass, '-I', p.cipher_suite_id, '-l', p.privilege_level, '--stat'], { timeoutMs: 60_000 });
      // ipmipower names the host without the port it reached it on.
      expect(`${r.status} ${r.stdout.trim()}`).toBe(`0 ${String(p.power_address).replace(/:\d+$/, '')}: off`);
      expect([...machine['mac_addresses']].sort()).toEqual(macsByNode[machine['hostname']]);
    }
    const redfish = await fleet.request<{ machines: Json[] }>('GET', '/api/v1/exports/maas?driver=redfish');
    expect(maasMachinesErrors(redfish.body)).toEqual([]);
    for (const machine of redfish.body.machines) {
      const p = machine['power_parameters'];
      const r = await runAsync('curl', ['-sk', '--max-time', '30', '-u', `${p.power_user}:${p.power_pass}`, `${p.power_address}/redfish/v1/Systems/${p.node_id}`], { timeoutMs: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ Id: p.node_id, PowerState: 'Off' });
    }
  });

  it('does not enrol with wrong credentials (the checks above can fail)', async () => {
    const resources = JSON.parse(await cli(['export', 'ironic', '--names', 'hand-a'])) as { nodes: Json[] };
    const info = resources.nodes[0]!['driver_info'];
    await expect(ipmitoolPowerStatus(info.ipmi_address, info.ipmi_port, info.ipmi_username, 'not-the-password')).rejects.toThrow(/failed/);
  });
});
