/**
 * GET /api/v1/exports/metal3 (YAML), /ironic and /maas (JSON): the fleet, or a selection of it, as
 * what Metal3, Ironic and MAAS enrol. The answers hold BMC passwords: they need the API token like
 * every /api/v1 route, and are never cached (Cache-Control: no-store).
 */
import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags,
} from '@nestjs/swagger';
import { ExportQueryDto } from './dto/export-query.dto';
import { withHttpErrors } from './exports-http';
import { EXPORTS_CONTROLLER_PATH } from './exports.paths';
import { type Exported, type ExportRequest, ExportsService } from './exports.service';
import type { IronicResources } from './ironic.render';
import type { MaasMachines } from './maas.render';

export const YAML_CONTENT_TYPE = 'application/yaml; charset=utf-8';
/** How many nodes the export holds. */
export const EXPORTED_NODES_HEADER = 'X-Bmcfleet-Exported-Nodes';
/** How many matching nodes were left out because they are being created or deleted. */
export const NOT_READY_NODES_HEADER = 'X-Bmcfleet-Not-Ready-Nodes';

interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

const ERRORS = {
  badRequest: 'A query parameter out of its rules, a driver the format has no equivalent of, or a BMC host no client can dial; the message says which',
  notFound: 'names lists a node the fleet does not have',
  conflict: 'names lists a node being created or deleted, a Redfish driver for nodes without a Redfish port, or MAAS for nodes without a NIC',
};

function exportRequest(query: ExportQueryDto): ExportRequest {
  const names = query.names?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  return {
    ...(query.driver === undefined ? {} : { driver: query.driver }),
    selection: {
      ...(query.name === undefined ? {} : { prefix: query.name }),
      ...(names === undefined ? {} : { names }),
      ...(query.machine === undefined ? {} : { machine: query.machine }),
    },
    ...(query.host === undefined ? {} : { host: query.host }),
    ...(query.namespace === undefined ? {} : { namespace: query.namespace }),
    ...(query.online === undefined ? {} : { online: query.online }),
  };
}

function respond<T>(exported: Exported<T>, file: string, response: HeaderSink): T {
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Content-Disposition', `attachment; filename="${file}"`);
  response.setHeader(EXPORTED_NODES_HEADER, String(exported.nodeCount));
  response.setHeader(NOT_READY_NODES_HEADER, String(exported.notReady.length));
  return exported.body;
}

@ApiTags('exports')
@ApiBearerAuth()
@Controller(EXPORTS_CONTROLLER_PATH)
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Get('metal3')
  @ApiOperation({ summary: 'The fleet as Metal3 BareMetalHosts and their credential Secrets (YAML)', description: 'One YAML stream for `kubectl apply -f -`: per node a Secret (username, password) and a BareMetalHost whose spec.bmc names it. Every BareMetalHost passes the metal3.io CRD schema.' })
  @ApiProduces('application/yaml')
  @ApiOkResponse({ description: 'Multi-document YAML' })
  @ApiBadRequestResponse({ description: ERRORS.badRequest })
  @ApiNotFoundResponse({ description: ERRORS.notFound })
  @ApiConflictResponse({ description: ERRORS.conflict })
  metal3(@Query() query: ExportQueryDto, @Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return withHttpErrors(async () => {
      const yaml = respond(await this.exports.metal3(exportRequest(query)), 'baremetalhosts.yaml', response);
      response.setHeader('Content-Type', YAML_CONTENT_TYPE);
      return yaml;
    });
  }

  @Get('ironic')
  @ApiOperation({ summary: 'The fleet as an Ironic resources file (JSON)', description: 'For `openstack baremetal create nodes.json`: {"nodes": [...]}, each with driver, driver_info, properties and its ports.' })
  @ApiOkResponse({ description: '{"nodes": [...]}' })
  @ApiBadRequestResponse({ description: ERRORS.badRequest })
  @ApiNotFoundResponse({ description: ERRORS.notFound })
  @ApiConflictResponse({ description: ERRORS.conflict })
  ironic(@Query() query: ExportQueryDto, @Res({ passthrough: true }) response: HeaderSink): Promise<IronicResources> {
    return withHttpErrors(async () => respond(await this.exports.ironic(exportRequest(query)), 'nodes.json', response));
  }

  @Get('maas')
  @ApiOperation({ summary: 'The fleet as MAAS machines (JSON)', description: '{"machines": [...]}: per node the parameters of `maas $PROFILE machines create` (hostname, architecture, mac_addresses, power_type, power_parameters).' })
  @ApiOkResponse({ description: '{"machines": [...]}' })
  @ApiBadRequestResponse({ description: ERRORS.badRequest })
  @ApiNotFoundResponse({ description: ERRORS.notFound })
  @ApiConflictResponse({ description: ERRORS.conflict })
  maas(@Query() query: ExportQueryDto, @Res({ passthrough: true }) response: HeaderSink): Promise<MaasMachines> {
    return withHttpErrors(async () => respond(await this.exports.maas(exportRequest(query)), 'machines.json', response));
  }
}
