import { parseAllDocuments } from 'yaml';
import { credentialsSecretErrors, metal3HostErrors } from '../../test/fixtures/exports/provisioning-schemas';
import { exportRow } from '../../test/fixtures/exports/export-nodes';
import { EXPORT_DRIVERS } from './bmc-address';
import { exportNodeOf } from './export-node';
import { ExportErrorCode } from './export.error';
import { credentialsSecretName, manifestsToYaml, renderMetal3, type Manifest } from './metal3.render';

const HOST = '127.0.0.1';
const node = (options: Parameters<typeof exportRow>[0]) => exportNodeOf(exportRow(options), HOST);

function spec(manifest: Manifest): Record<string, unknown> {
  return manifest['spec'] as Record<string, unknown>;
}

describe('renderMetal3', () => {
  it('renders per node its Secret, then a BareMetalHost naming it', () => {
    const n = node({ name: 'n1', ipmiPort: 16300, user: 'admin', password: 'pa ss:wørd' });
    const [secret, host] = renderMetal3([n], { driver: 'ipmi', online: false });
    expect(secret).toEqual({
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: 'n1-bmc-secret', labels: { 'bmcfleet.io/node': 'n1', 'bmcfleet.io/machine': 'sim' } },
      data: { username: Buffer.from('admin').toString('base64'), password: Buffer.from('pa ss:wørd', 'utf8').toString('base64') },
    });
    expect(host).toMatchObject({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', metadata: { name: 'n1' } });
    expect(spec(host!)).toEqual({
      online: false, bootMode: 'UEFI', architecture: 'x86_64', bootMACAddress: n.nics[0]!.mac,
      bmc: { address: 'ipmi://127.0.0.1:16300', credentialsName: credentialsSecretName(n) },
      description: 'bmcfleet node n1 (sim)',
    });
  });

  it('addresses the node\'s Redfish system for the Redfish drivers, without certificate verification', () => {
    const n = node({ name: 'n2', redfishPort: 17100, bootMode: 'bios' });
    for (const driver of ['redfish', 'redfish-virtualmedia'] as const) {
      const host = renderMetal3([n], { driver, online: true })[1]!;
      expect(spec(host)).toMatchObject({
        online: true, bootMode: 'legacy',
        bmc: { address: `${driver}://127.0.0.1:17100/redfish/v1/Systems/1`, credentialsName: 'n2-bmc-secret', disableCertificateVerification: true },
      });
    }
  });

  it('writes IPv6 hosts in brackets', () => {
    const n = exportNodeOf(exportRow({ name: 'v6', ipmiPort: 16301, redfishPort: 17101 }), 'fd00::10');
    expect(spec(renderMetal3([n], { driver: 'ipmi', online: false })[1]!)['bmc']).toMatchObject({ address: 'ipmi://[fd00::10]:16301' });
    expect(spec(renderMetal3([n], { driver: 'redfish', online: false })[1]!)['bmc']).toMatchObject({ address: 'redfish://[fd00::10]:17101/redfish/v1/Systems/1' });
  });

  it('puts every object in the namespace given, and none without', () => {
    const manifests = renderMetal3([node({ name: 'a' }), node({ name: 'b' })], { driver: 'ipmi', online: false, namespace: 'metal3' });
    expect(manifests.map((m) => (m['metadata'] as { namespace?: string }).namespace)).toEqual(['metal3', 'metal3', 'metal3', 'metal3']);
    expect(renderMetal3([node({ name: 'c' })], { driver: 'ipmi', online: false }).every((m) => !('namespace' in (m['metadata'] as object)))).toBe(true);
  });

  it('leaves bootMACAddress out for a VM without a NIC (the operator learns it by inspection)', () => {
    expect(spec(renderMetal3([node({ name: 'vm', machine: 'qemu' })], { driver: 'ipmi', online: false })[1]!)).not.toHaveProperty('bootMACAddress');
  });

  it('refuses a Redfish driver for nodes without a Redfish port, naming them', () => {
    const nodes = [node({ name: 'new' }), node({ name: 'old', redfishPort: null })];
    expect(() => renderMetal3(nodes, { driver: 'redfish-virtualmedia', online: false })).toThrow(expect.objectContaining({ code: ExportErrorCode.NoRedfishPort, message: expect.stringMatching(/: old; use driver=ipmi/) }));
    expect(renderMetal3(nodes, { driver: 'ipmi', online: false })).toHaveLength(4);
  });

  it.each(EXPORT_DRIVERS)('passes the metal3.io CRD schema (kubectl --validate=strict) with driver %s, through YAML and back', (driver) => {
    const nodes = [node({ name: 'on', bootMode: 'bios' }), node({ name: 'n-uefi', machine: 'qemu', networks: ['lan'] }), node({ name: 'vm', machine: 'qemu' })];
    const yaml = manifestsToYaml(renderMetal3(nodes, { driver, online: true, namespace: 'metal3' }));
    const documents = parseAllDocuments(yaml, { version: '1.1' }).map((d) => d.toJS() as Manifest);
    expect(documents.map((d) => d.kind)).toEqual(['Secret', 'BareMetalHost', 'Secret', 'BareMetalHost', 'Secret', 'BareMetalHost']);
    for (const document of documents) {
      expect(document.kind === 'Secret' ? credentialsSecretErrors(document) : metal3HostErrors(document)).toEqual([]);
    }
    // A YAML 1.1 reader (kubectl's) reads names and MACs back as strings.
    expect(documents[1]!['metadata']).toMatchObject({ name: 'on' });
    expect(typeof spec(documents[3]!)['bootMACAddress']).toBe('string');
  });

  it('is caught by the CRD schema when a field is wrong (the check can fail)', () => {
    const host = renderMetal3([node({ name: 'x' })], { driver: 'ipmi', online: false })[1]!;
    const broken = (change: (s: Record<string, unknown>) => void): string[] => {
      const copy = JSON.parse(JSON.stringify(host)) as Manifest;
      change(spec(copy));
      return metal3HostErrors(copy);
    };
    expect(broken((s) => { s['bootMode'] = 'uefi'; })).not.toEqual([]);
    expect(broken((s) => { s['bootMACAddress'] = 'not-a-mac'; })).not.toEqual([]);
    expect(broken((s) => { delete (s['bmc'] as Record<string, unknown>)['credentialsName']; })).not.toEqual([]);
    expect(broken((s) => { s['bmcAddress'] = 'ipmi://x'; })).not.toEqual([]);
    expect(broken((s) => { delete s['online']; })).not.toEqual([]);
    expect(metal3HostErrors({ ...host, apiVersion: 'metal3.io/v1' })).not.toEqual([]);
  });

  it('renders nothing for no nodes', () => {
    expect(manifestsToYaml(renderMetal3([], { driver: 'ipmi', online: false }))).toBe('');
  });
});
