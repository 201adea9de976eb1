-- AlterTable
ALTER TABLE "Node" ADD COLUMN "macId" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "Node_macId_key" ON "Node"("macId");
