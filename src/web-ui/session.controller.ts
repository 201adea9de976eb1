/**
 * Browser log-in (docs/security.md): POST /api/v1/session trades API_TOKEN for the HttpOnly,
 * SameSite=Strict session cookie (Secure when the request came over TLS); DELETE ends it; GET says
 * whether a token is needed and whether this browser has a valid session. All three are public.
 */
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { clearedSessionCookie, issueSession, sessionCookie } from '../common/auth/browser-session';
import { PublicRoute } from '../common/auth/public-route.decorator';
import { checkCredentials, tokenMatches } from '../common/auth/request-credentials';

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
  login(@Body() body: LoginDto, @Req() request: SessionRequest, @Res({ passthrough: true }) response: SessionResponse): void {
    const token = this.config.http.apiToken;
    if (token === null) return; // nothing to trade: without API_TOKEN the loopback API is open
    if (!tokenMatches(body.token, token)) throw new UnauthorizedException('not the API token');
    response.setHeader('Set-Cookie', sessionCookie(issueSession(token, Date.now()).value, request.secure));
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Logged out: the response clears the session cookie' })
  logout(@Req() request: SessionRequest, @Res({ passthrough: true }) response: SessionResponse): void {
    response.setHeader('Set-Cookie', clearedSessionCookie(request.secure));
  }
}
