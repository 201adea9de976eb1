/**
 * Browser log-in (docs/security.md): POST /api/v1/session trades API_TOKEN for the HttpOnly,
 * SameSite=Strict session cookie (Secure when the request came over TLS); DELETE ends it; GET says
 * whether a token is needed and whether this browser has a valid session. All three are public.
 * After MAX_FAILURES wrong tokens in a row from one address, that address gets 429 with Retry-After
 * for LOCKOUT_MS without its token being checked.
 */
import { Body, Controller, Delete, Get, HttpCode, HttpException, HttpStatus, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { clearedSessionCookie, issueSession, sessionCookie } from '../common/auth/browser-session';
import { PublicRoute } from '../common/auth/public-route.decorator';
import { LoginLimiter } from '../common/auth/login-limiter';
import { checkCredentials, tokenMatches } from '../common/auth/request-credentials';

/** The limiter's user name for the API token (there is one token, no user names). */
const TOKEN_USER = 'api-token';

export class LoginDto {
  @ApiProperty({ description: 'The orchestrator\'s API_TOKEN' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  token!: string;
}

export class SessionStateDto {
  @ApiProperty({ description: 'Whether the API asks for API_TOKEN (false: loopback without a token)' }) tokenRequired!: boolean;
  @ApiProperty({ description: 'Whether this request may use the API (token, cookie, or none needed)' }) authenticated!: boolean;
}

interface SessionRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly secure: boolean;
  readonly socket: { readonly remoteAddress?: string };
}
interface SessionResponse {
  setHeader(name: string, value: string): unknown;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join('; ') : value;
}

@ApiTags('session')
@PublicRoute()
@Controller('session')
export class SessionController {
  private readonly limiter = new LoginLimiter();

  constructor(private readonly config: AppConfig) {}

  @Get()
  @ApiOkResponse({ type: SessionStateDto })
  state(@Req() request: SessionRequest): SessionStateDto {
    const token = this.config.http.apiToken;
    const verdict = checkCredentials({ authorization: single(request.headers['authorization']), cookie: single(request.headers['cookie']) }, token, Date.now());
    return { tokenRequired: token !== null, authenticated: verdict.ok };
  }

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Logged in: the response sets the session cookie' })
  @ApiUnauthorizedResponse({ description: 'Not the API token' })
  @ApiTooManyRequestsResponse({ description: 'Too many wrong tokens from this address: try again after Retry-After seconds' })
  login(@Body() body: LoginDto, @Req() request: SessionRequest, @Res({ passthrough: true }) response: SessionResponse): void {
    const token = this.config.http.apiToken;
    if (token === null) return; // nothing to trade: without API_TOKEN the loopback API is open
    const remote = request.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    const lockedUntil = this.limiter.lockedUntil(TOKEN_USER, remote, now);
    if (lockedUntil > now) {
      const seconds = Math.ceil((lockedUntil - now) / 1000);
      response.setHeader('Retry-After', String(seconds));
      throw new HttpException(`too many wrong tokens from this address: try again in ${seconds} s`, HttpStatus.TOO_MANY_REQUESTS);
    }
    if (!tokenMatches(body.token, token)) {
      this.limiter.failed(TOKEN_USER, remote, now);
      throw new UnauthorizedException('not the API token');
    }
    this.limiter.succeeded(TOKEN_USER, remote);
    response.setHeader('Set-Cookie', sessionCookie(issueSession(token, Date.now()).value, request.secure));
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Logged out: the response clears the session cookie' })
  logout(@Req() request: SessionRequest, @Res({ passthrough: true }) response: SessionResponse): void {
    response.setHeader('Set-Cookie', clearedSessionCookie(request.secure));
  }
}
