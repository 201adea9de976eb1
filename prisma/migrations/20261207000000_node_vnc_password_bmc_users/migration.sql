-- AlterTable
ALTER TABLE "Node" ADD COLUMN "vncPassword" TEXT;
ALTER TABLE "Node" ADD COLUMN "bmcUsersResetId" TEXT;
ALTER TABLE "Node" ADD COLUMN "bmcReachable" BOOLEAN;
