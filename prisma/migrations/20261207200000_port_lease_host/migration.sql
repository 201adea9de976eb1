-- Port leases per host: the same port may be leased on different hosts (a Docker Swarm publishes each
-- node's ports on its own host's address). A lease takes its node's host; a node that has no host
-- yet (made before the node table knew hosts, not made again since) leaves "", which the lease
-- chooser treats as held on every host, until the node's runtime node is next made and the lease
-- takes that host. On a plain Docker engine every lease ends up on its one host, as before.
-- ALTER TABLE only (no table rebuild): no row, lease or event is copied or cascaded.

-- AlterTable
ALTER TABLE "PortLease" ADD COLUMN "host" TEXT NOT NULL DEFAULT '';
UPDATE "PortLease" SET "host" = COALESCE((SELECT "host" FROM "Node" WHERE "Node"."id" = "PortLease"."nodeId"), '');

-- DropIndex
DROP INDEX "PortLease_kind_port_key";

-- CreateIndex
CREATE UNIQUE INDEX "PortLease_host_kind_port_key" ON "PortLease"("host", "kind", "port");
