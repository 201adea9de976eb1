-- CreateIndex
CREATE INDEX "Node_machine_name_idx" ON "Node"("machine", "name");

-- CreateIndex
CREATE INDEX "Node_powerState_name_idx" ON "Node"("powerState", "name");

-- CreateIndex
CREATE INDEX "Node_machine_powerState_name_idx" ON "Node"("machine", "powerState", "name");
