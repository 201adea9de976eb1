/**
 * GET /api/v1/nodes with filters and pages (rules in node-list-query.ts): one SQL statement per
 * answer, walking the name index (or (machine|powerState, name) with a filter), each node's leases
 * folded into its row as JSON. Prisma's typed findMany with `include` costs about three times the
 * CPU for a page (a second query and the relation join in JavaScript); this statement keeps a page
 * of 100 at about 3 ms of CPU over 100,000 rows (docs/benchmarks.md).
 */
import { BadRequestException, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { Prisma, type Node as NodeRow } from '../generated/prisma/client';
import { NAME_PREFIX_END, NodeListFilters, NodeListQueryError, NodeListRequest, pageOf, planNodeList } from './node-list-query';
import { toNodeView, type LeaseRef, type NodeView } from './node.model';
import { HostAddresses } from './host-addresses.service';

export interface NodePage {
  readonly items: NodeView[];
  /** Pass it as `cursor` (with the same filters) for the next page; null: this was the last. */
  readonly nextCursor: string | null;
}

/** The WHERE clause of a list: exact machine and power state, the name prefix as a range of the name index. */
export function nodeListCondition(filters: NodeListFilters, after: string | null): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (filters.name !== undefined) conditions.push(Prisma.sql`n."name" >= ${filters.name} AND n."name" < ${filters.name + NAME_PREFIX_END}`);
  if (after !== null) conditions.push(Prisma.sql`n."name" > ${after}`);
  if (filters.machine !== undefined) conditions.push(Prisma.sql`n."machine" = ${filters.machine}`);
  if (filters.powerState !== undefined) conditions.push(Prisma.sql`n."powerState" = ${filters.powerState}`);
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}`;
}

type ListedRow = NodeRow & { leasesJson: string; farmName: string | null };

function leasesOf(json: string): LeaseRef[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) return [];
  return value.filter((lease): lease is LeaseRef => typeof lease === 'object' && lease !== null && typeof (lease as LeaseRef).kind === 'string' && typeof (lease as LeaseRef).port === 'number');
}

@Injectable()
export class NodeListing {
  constructor(
    private readonly prisma: PrismaService,
    private readonly addresses: HostAddresses,
  ) {}

  /** An array of every matching node (no limit, no cursor), or a page. */
  async list(request: NodeListRequest): Promise<NodeView[] | NodePage> {
    let plan;
    try {
      plan = planNodeList(request);
    } catch (error) {
      if (error instanceof NodeListQueryError) throw new BadRequestException(error.message);
      throw error;
    }
    const where = nodeListCondition(plan.filters, plan.paged ? plan.after : null);
    // One more than the page: it only tells whether another page follows.
    const limit = plan.paged ? Prisma.sql`LIMIT ${plan.limit + 1}` : Prisma.empty;
    const rows = await this.prisma.$queryRaw<ListedRow[]>`
      SELECT n.*, (SELECT json_group_array(json_object('kind', l."kind", 'port', l."port")) FROM "PortLease" l WHERE l."nodeId" = n."id") AS "leasesJson",
        (SELECT f."name" FROM "Farm" f WHERE f."id" = n."farmId") AS "farmName"
      FROM "Node" n ${where} ORDER BY n."name" ASC ${limit}`;
    const addressOf = await this.addresses.resolver();
    const views = rows.map(({ leasesJson, farmName, ...row }) => toNodeView({ ...row, leases: leasesOf(leasesJson) }, addressOf(row.host), farmName));
    return plan.paged ? pageOf(views, plan.limit, plan.filters) : views;
  }
}
