-- The node table in runtime-neutral terms: the runtime node's name and id instead of a Docker
-- container's, and the host it runs on. Rows keep their values (a plain Docker fleet's container
-- name and id become runtimeRef and runtimeId); the /vm volume's name was always
-- "<containerName>-vm", which the Docker runtime derives from runtimeRef, so its column goes.
-- ALTER TABLE only (no table rebuild): no row, lease or event is copied or cascaded.

-- DropIndex
DROP INDEX "Node_containerName_key";

-- AlterTable
ALTER TABLE "Node" RENAME COLUMN "containerName" TO "runtimeRef";
ALTER TABLE "Node" RENAME COLUMN "containerId" TO "runtimeId";
ALTER TABLE "Node" DROP COLUMN "volumeName";
ALTER TABLE "Node" ADD COLUMN "host" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Node_runtimeRef_key" ON "Node"("runtimeRef");
