/**
 * The fleet as Metal3 manifests (pure): per node a BareMetalHost (metal3.io/v1alpha1, the CRD of
 * baremetal-operator, config/base/crds/bases/metal3.io_baremetalhosts.yaml) and the Secret its
 * spec.bmc.credentialsName names, with the keys that CRD requires ("username", "password"). Rendered
 * as one multi-document YAML stream for `kubectl apply -f -`; without a namespace the objects take
 * kubectl's (`-n`, or the context's).
 */
import { stringify } from 'yaml';
import { metal3BmcAddress, type ExportDriver } from './bmc-address';
import type { ExportNode } from './export-node';
import { redfishOf, requireRedfish } from './redfish-endpoint';

export const METAL3_API_VERSION = 'metal3.io/v1alpha1';
export const BARE_METAL_HOST_KIND = 'BareMetalHost';
/** Labels on every object, so `kubectl delete -l bmcfleet.io/node` finds what an export made. */
export const NODE_LABEL = 'bmcfleet.io/node';
export const MACHINE_LABEL = 'bmcfleet.io/machine';

export interface Metal3Options {
  readonly driver: ExportDriver;
  /** metadata.namespace of every object; absent: kubectl's namespace. */
  readonly namespace?: string;
  /** spec.online: the power state the operator keeps the host in once it has inspected it. */
  readonly online: boolean;
}

type Json = { readonly [key: string]: Json } | readonly Json[] | string | number | boolean;
export type Manifest = { readonly apiVersion: string; readonly kind: string } & { readonly [key: string]: Json };

export function credentialsSecretName(node: Pick<ExportNode, 'name'>): string {
  return `${node.name}-bmc-secret`;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function metadata(node: ExportNode, name: string, options: Metal3Options): Json {
  return {
    name,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    labels: { [NODE_LABEL]: node.name, [MACHINE_LABEL]: node.machine },
  };
}

function credentialsSecret(node: ExportNode, options: Metal3Options): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(node, credentialsSecretName(node), options),
    type: 'Opaque',
    data: { username: base64(node.credentials.user), password: base64(node.credentials.password) },
  };
}

function bareMetalHost(node: ExportNode, options: Metal3Options): Manifest {
  const redfish = options.driver === 'ipmi' ? null : redfishOf(node);
  const bootNic = node.nics[0];
  return {
    apiVersion: METAL3_API_VERSION,
    kind: BARE_METAL_HOST_KIND,
    metadata: metadata(node, node.name, options),
    spec: {
      online: options.online,
      bootMode: node.bootMode === 'uefi' ? 'UEFI' : 'legacy',
      architecture: 'x86_64',
      ...(bootNic === undefined ? {} : { bootMACAddress: bootNic.mac }),
      bmc: {
        address: metal3BmcAddress(options.driver, node.ipmi, redfish ?? node.ipmi),
        credentialsName: credentialsSecretName(node),
        // The agent's certificate is self-signed (REDFISH_TLS_CERT unset): a verifying client refuses it.
        ...(redfish === null ? {} : { disableCertificateVerification: true }),
      },
      description: `bmcfleet node ${node.name} (${node.machine})`,
    },
  };
}

/** Per node its Secret, then its BareMetalHost (the Secret first, as the host refers to it). */
export function renderMetal3(nodes: readonly ExportNode[], options: Metal3Options): Manifest[] {
  if (options.driver !== 'ipmi') requireRedfish(nodes, options.driver);
  return nodes.flatMap((node) => [credentialsSecret(node, options), bareMetalHost(node, options)]);
}

/**
 * One YAML stream, "---" between documents. Written as YAML 1.1 quotes what a 1.1 reader (kubectl's)
 * would otherwise take for a number or a boolean: MACs of decimal digits, names such as "on".
 */
export function manifestsToYaml(manifests: readonly Manifest[]): string {
  return manifests.map((manifest) => `---\n${stringify(manifest, { version: '1.1' })}`).join('');
}
