/**
 * `GET /api/v1/containerlab/topology` (options in the query) and `POST /api/v1/containerlab/topology`
 * (the same as a JSON body, for long link lists): the fleet, or some of its nodes, as a containerlab
 * topology file (YAML), or as JSON with format=json. Nothing is rendered when a name or link is
 * refused: the 4xx says what to change.
 */
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation,
  ApiProduces, ApiTags,
} from '@nestjs/swagger';
import { withHttpErrors } from './containerlab-http';
import { CONTAINERLAB_CONTROLLER_PATH, TOPOLOGY_ROUTE } from './containerlab.paths';
import { ContainerlabService, type TopologyRequest } from './containerlab.service';
import { TopologyQueryDto } from './dto/topology-query.dto';
import { type TopologyFormat } from './dto/topology-options';
import { TopologyRequestDto } from './dto/topology-request.dto';
import { ENDPOINT_SEPARATOR, linkFromEndpoints, parseLinks } from './links';
import { type ClabTopology, topologyToYaml } from './topology';

export const YAML_CONTENT_TYPE = 'application/yaml; charset=utf-8';
/**
 * Names (comma-separated) the first UNDEFINED_NODES_SHOWN nodes the links name that the topology does
 * not define; UNDEFINED_NODE_COUNT_HEADER says how many there are. The YAML header lists them all.
 */
export const UNDEFINED_NODES_HEADER = 'X-Bmcfleet-Undefined-Nodes';
export const UNDEFINED_NODE_COUNT_HEADER = 'X-Bmcfleet-Undefined-Node-Count';
/** How many nodes a whole-fleet topology left out because their BMC lives in a farm (no container to link). */
export const FARM_NODES_LEFT_OUT_HEADER = 'X-Bmcfleet-Farm-Nodes-Left-Out';
/** 20 names of at most 63 characters: the header stays under 1.3 KB, far inside any client's limit. */
export const UNDEFINED_NODES_SHOWN = 20;

/** The headers that report undefined nodes, bounded whatever their number. */
export function undefinedNodesHeaders(names: readonly string[]): Record<string, string> {
  if (names.length === 0) return {};
  return {
    [UNDEFINED_NODES_HEADER]: names.slice(0, UNDEFINED_NODES_SHOWN).join(','),
    [UNDEFINED_NODE_COUNT_HEADER]: String(names.length),
  };
}

/** The part of the response this controller sets (the platform's own type is not needed). */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

const OK_DESCRIPTION = 'The topology: YAML (application/yaml) by default, JSON with format=json';
const ERRORS = {
  badRequest: 'A lab, node or interface name containerlab would refuse, a malformed link, an interface the node did not declare in labInterfaces, or a node kind: linux cannot express, a node whose BMC lives in a farm; the message says what to change',
  notFound: 'nodes names a node the fleet does not have',
  conflict: 'nodes names a node that is being deleted',
};

function names(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text.split(ENDPOINT_SEPARATOR).map((n) => n.trim()).filter((n) => n.length > 0);
}

@ApiTags('containerlab')
@ApiBearerAuth()
@Controller(CONTAINERLAB_CONTROLLER_PATH)
export class ContainerlabController {
  constructor(private readonly containerlab: ContainerlabService) {}

  @Get(TOPOLOGY_ROUTE)
  @ApiOperation({
    summary: 'The fleet as a containerlab topology',
    description: 'Renders every node (or those in `nodes`) as containerlab nodes, `ext-container` by default, with the links given in `links`. Every rendered topology passes containerlab\'s JSON schema.',
  })
  @ApiProduces('application/yaml', 'application/json')
  @ApiOkResponse({ description: OK_DESCRIPTION })
  @ApiBadRequestResponse({ description: ERRORS.badRequest })
  @ApiNotFoundResponse({ description: ERRORS.notFound })
  @ApiConflictResponse({ description: ERRORS.conflict })
  getTopology(@Query() query: TopologyQueryDto, @Res({ passthrough: true }) response: HeaderSink): Promise<string | ClabTopology> {
    return withHttpErrors(async () => {
      const nodes = names(query.nodes);
      return this.respond({
        ...(query.name === undefined ? {} : { labName: query.name }),
        ...(query.mode === undefined ? {} : { mode: query.mode }),
        ...(nodes === undefined ? {} : { nodes }),
        links: query.links === undefined ? [] : parseLinks(query.links),
      }, query.format ?? 'yaml', response);
    });
  }

  @Post(TOPOLOGY_ROUTE)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'The fleet as a containerlab topology (options as JSON)',
    description: 'The same as GET, with the options in a JSON body: for link lists too long for a query string.',
  })
  @ApiBody({ type: TopologyRequestDto })
  @ApiProduces('application/yaml', 'application/json')
  @ApiOkResponse({ description: OK_DESCRIPTION })
  @ApiBadRequestResponse({ description: ERRORS.badRequest })
  @ApiNotFoundResponse({ description: ERRORS.notFound })
  @ApiConflictResponse({ description: ERRORS.conflict })
  postTopology(@Body() body: TopologyRequestDto, @Res({ passthrough: true }) response: HeaderSink): Promise<string | ClabTopology> {
    return withHttpErrors(async () => this.respond({
      ...(body.name === undefined ? {} : { labName: body.name }),
      ...(body.mode === undefined ? {} : { mode: body.mode }),
      ...(body.nodes === undefined ? {} : { nodes: body.nodes }),
      links: (body.links ?? []).map((link, index) => linkFromEndpoints(link.endpoints, `link ${index + 1}`)),
    }, body.format ?? 'yaml', response));
  }

  private async respond(request: TopologyRequest, format: TopologyFormat, response: HeaderSink): Promise<string | ClabTopology> {
    const rendered = await this.containerlab.render(request);
    for (const [name, value] of Object.entries(undefinedNodesHeaders(rendered.undefinedNodes))) response.setHeader(name, value);
    if (rendered.farmNodesLeftOut.length > 0) response.setHeader(FARM_NODES_LEFT_OUT_HEADER, String(rendered.farmNodesLeftOut.length));
    const file = `${rendered.topology.name}.clab.${format === 'yaml' ? 'yml' : 'json'}`;
    response.setHeader('Content-Disposition', `inline; filename="${file}"`);
    if (format === 'json') return rendered.topology;
    response.setHeader('Content-Type', YAML_CONTENT_TYPE);
    return topologyToYaml(rendered);
  }
}
