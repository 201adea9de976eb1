-- CreateTable
CREATE TABLE "Fleet" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Node" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'creating',
    "powerState" TEXT NOT NULL DEFAULT 'unknown',
    "powerObservedAt" DATETIME,
    "machine" TEXT NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "cpus" INTEGER NOT NULL,
    "diskSizeGiB" INTEGER NOT NULL,
    "cdrom" TEXT,
    "bootMode" TEXT NOT NULL,
    "bootMenuTimeoutMs" INTEGER NOT NULL,
    "enableKvm" TEXT NOT NULL,
    "powerOnAtStart" BOOLEAN NOT NULL,
    "networks" TEXT NOT NULL DEFAULT '[]',
    "labInterfaces" TEXT NOT NULL DEFAULT '[]',
    "ipmiUser" TEXT NOT NULL,
    "ipmiPassword" TEXT NOT NULL,
    "containerName" TEXT NOT NULL,
    "containerId" TEXT,
    "volumeName" TEXT NOT NULL,
    "lastError" TEXT,
    "purgeOnDelete" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "PortLease" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "nodeId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PortLease_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "NodeEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "nodeId" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "type" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    CONSTRAINT "NodeEvent_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Node_name_key" ON "Node"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Node_containerName_key" ON "Node"("containerName");

-- CreateIndex
CREATE UNIQUE INDEX "PortLease_kind_port_key" ON "PortLease"("kind", "port");

-- CreateIndex
CREATE UNIQUE INDEX "PortLease_nodeId_kind_key" ON "PortLease"("nodeId", "kind");

-- CreateIndex
CREATE INDEX "NodeEvent_nodeId_at_idx" ON "NodeEvent"("nodeId", "at");
