/**
 * Requires `Authorization: Bearer <API_TOKEN>` on every route not marked @PublicRoute().
 * Without API_TOKEN the API is open, which the config allows only on a loopback BIND_ADDRESS.
 */
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { PUBLIC_ROUTE } from './public-route.decorator';

/** RFC 7235 section 2.1: the scheme is case-insensitive ("bearer", "BEARER"); one or more spaces follow. */
const BEARER = /^bearer +(\S+) *$/i;

/** Hashing first gives equal lengths, so the comparison leaks neither content nor length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

interface RequestWithHeaders {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly expectedDigest: Buffer | null;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.expectedDigest = config.http.apiToken === null ? null : digest(config.http.apiToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expectedDigest === null) {
      return true;
    }
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) {
      return true;
    }
    const header = context.switchToHttp().getRequest<RequestWithHeaders>().headers['authorization'];
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (token === undefined) {
      throw new UnauthorizedException('bearer token required');
    }
    if (!timingSafeEqual(digest(token), this.expectedDigest)) {
      throw new UnauthorizedException('invalid bearer token');
    }
    return true;
  }
}
