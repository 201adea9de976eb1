import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { parseAppConfig } from '../../config/env.schema';
import { ApiTokenGuard } from './api-token.guard';
import { PublicRoute } from './public-route.decorator';

const TOKEN = 'correct-horse-battery-staple';

class SampleController {
  protected(): void {}

  @PublicRoute()
  open(): void {}
}

function configWith(apiToken: string | undefined): AppConfig {
  return parseAppConfig(apiToken === undefined ? {} : { API_TOKEN: apiToken }, { cwd: '/' });
}

function contextFor(handler: keyof SampleController, authorization?: string): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return {
    getHandler: () => SampleController.prototype[handler],
    getClass: () => SampleController,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe('ApiTokenGuard', () => {
  describe('without API_TOKEN (loopback only)', () => {
    const sut = new ApiTokenGuard(configWith(undefined), new Reflector());

    it('lets every request through', () => {
      expect(sut.canActivate(contextFor('protected'))).toBe(true);
    });
  });

  describe('with API_TOKEN', () => {
    const sut = new ApiTokenGuard(configWith(TOKEN), new Reflector());

    it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `bEaReR  ${TOKEN}`])('accepts the right token with the scheme in any case: %s', (header) => {
      expect(sut.canActivate(contextFor('protected', header))).toBe(true);
    });

    it.each([
      ['no header', undefined],
      ['another scheme', `Basic ${TOKEN}`],
      ['a wrong token', 'Bearer correct-horse-battery-stapler'],
      ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
      ['an empty token', 'Bearer '],
      ['no space after the scheme', `Bearer${TOKEN}`],
      ['the token twice', `Bearer ${TOKEN} ${TOKEN}`],
    ])('refuses %s with 401', (_case, header) => {
      expect(() => sut.canActivate(contextFor('protected', header))).toThrow(UnauthorizedException);
    });

    it('lets @PublicRoute() handlers through without a token', () => {
      expect(sut.canActivate(contextFor('open'))).toBe(true);
    });
  });
});
