/**
 * Requires API_TOKEN on every route not marked @PublicRoute(): as `Authorization: Bearer <token>` or
 * as the session cookie a browser got by logging in (request-credentials.ts).
 * Without API_TOKEN the API is open, which the config allows only on a loopback BIND_ADDRESS.
 */
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { PUBLIC_ROUTE } from './public-route.decorator';
import { checkCredentials } from './request-credentials';

interface RequestWithHeaders {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join('; ') : value;
}

@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly apiToken: string | null;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.apiToken = config.http.apiToken;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.apiToken === null) {
      return true;
    }
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) {
      return true;
    }
    const { headers } = context.switchToHttp().getRequest<RequestWithHeaders>();
    const verdict = checkCredentials({ authorization: single(headers['authorization']), cookie: single(headers['cookie']) }, this.apiToken, Date.now());
    if (!verdict.ok) throw new UnauthorizedException(verdict.message);
    return true;
  }
}
