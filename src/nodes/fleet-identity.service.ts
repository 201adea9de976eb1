/** Reads the fleet's id from the database, creating it on the first start (one Fleet row). */
import { randomUUID } from 'node:crypto';
import { PrismaService } from '../database/prisma.service';
import { FleetIdentity } from './fleet-context';

export class DatabaseFleetIdentity extends FleetIdentity {
  private constructor(readonly fleetId: string) {
    super();
  }

  static async load(prisma: PrismaService): Promise<DatabaseFleetIdentity> {
    const existing = await prisma.fleet.findFirst({ orderBy: { createdAt: 'asc' } });
    if (existing !== null) return new DatabaseFleetIdentity(existing.id);
    const created = await prisma.fleet.create({ data: { id: randomUUID() } });
    return new DatabaseFleetIdentity(created.id);
  }
}
