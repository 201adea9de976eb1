/**
 * The export use case: read the nodes through NodesService, select, and render one format. The
 * answers carry each node's BMC password: nothing here logs them (only counts are logged).
 */
import { Injectable, Logger } from '@nestjs/common';
import { HostAddresses } from '../nodes/host-addresses.service';
import { NodesService } from '../nodes/nodes.service';
import { isUnspecifiedAddress, DEFAULT_EXPORT_DRIVER, type ExportDriver } from './bmc-address';
import { exportNodeOf, type ExportNode } from './export-node';
import { selectNodes, type ExportSelection } from './export-selection';
import { ExportError, ExportErrorCode } from './export.error';
import type { ExportFormat } from './exports.paths';
import { renderIronic, type IronicResources } from './ironic.render';
import { renderMaas, type MaasMachines } from './maas.render';
import { manifestsToYaml, renderMetal3 } from './metal3.render';

export interface ExportRequest {
  readonly driver?: ExportDriver;
  readonly selection: ExportSelection;
  /** Overrides each node's address (its host's; PUBLISH_ADDRESS on a plain Docker engine) as the BMCs' address. */
  readonly host?: string;
  readonly namespace?: string;
  readonly online?: boolean;
}

export interface Exported<T> {
  readonly body: T;
  readonly nodeCount: number;
  /** Matching nodes left out because they are being created or deleted. */
  readonly notReady: readonly string[];
}

@Injectable()
export class ExportsService {
  private readonly logger = new Logger('Exports');

  constructor(private readonly nodes: NodesService, private readonly addresses: HostAddresses) {}

  async metal3(request: ExportRequest): Promise<Exported<string>> {
    return this.render('metal3', request, (nodes, driver) => manifestsToYaml(renderMetal3(nodes, {
      driver,
      online: request.online ?? false,
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    })));
  }

  async ironic(request: ExportRequest): Promise<Exported<IronicResources>> {
    return this.render('ironic', request, (nodes, driver) => renderIronic(nodes, driver));
  }

  async maas(request: ExportRequest): Promise<Exported<MaasMachines>> {
    return this.render('maas', request, (nodes, driver) => renderMaas(nodes, driver));
  }

  private async render<T>(format: ExportFormat, request: ExportRequest, renderer: (nodes: ExportNode[], driver: ExportDriver) => T): Promise<Exported<T>> {
    // Each node's BMC at its host's address (PUBLISH_ADDRESS on a plain Docker engine), unless the request names one.
    const addressOf = await this.addresses.resolver();
    const hostOf = (row: { host: string | null }): string => request.host ?? addressOf(row.host);
    const driver = request.driver ?? DEFAULT_EXPORT_DRIVER;
    const selected = selectNodes(await this.nodes.rows(), request.selection);
    const addresses = selected.nodes.length === 0 ? [request.host ?? addressOf(null)] : selected.nodes.map(hostOf);
    const unspecified = addresses.find(isUnspecifiedAddress);
    if (unspecified !== undefined) {
      throw new ExportError(ExportErrorCode.UnreachableHost, `the nodes' ports are published on ${unspecified} (every interface), which no client can dial: give host=<the address provisioning systems reach this machine at>`);
    }
    const body = renderer(selected.nodes.map((row) => exportNodeOf(row, hostOf(row))), driver);
    this.logger.log(`exported ${selected.nodes.length} node(s) as ${format} (driver ${driver})${selected.notReady.length > 0 ? `, ${selected.notReady.length} not ready left out` : ''}`);
    return { body, nodeCount: selected.nodes.length, notReady: selected.notReady };
  }
}
