/** Marks a route the API token guard lets through without a token (health checks, metrics). */
import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'bmcfleet:public-route';

export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
