-- Farms: one runtime node hosting many sim nodes' BMCs (src/farms). A node placed in a farm names
-- it in farmId; other nodes keep null. ALTER TABLE only (no table rebuild): no row is copied.

-- CreateTable
CREATE TABLE "Farm" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "runtimeRef" TEXT NOT NULL,
    "runtimeId" TEXT,
    "host" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- AlterTable
ALTER TABLE "Node" ADD COLUMN "farmId" TEXT REFERENCES "Farm" ("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateIndex
CREATE UNIQUE INDEX "Farm_name_key" ON "Farm"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Farm_runtimeRef_key" ON "Farm"("runtimeRef");

-- CreateIndex
CREATE INDEX "Node_farmId_name_idx" ON "Node"("farmId", "name");
