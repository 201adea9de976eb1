/** The browser's side of the API: log-in and log-out (the pages themselves: web-ui.middleware.ts). */
import { Module } from '@nestjs/common';
import { SessionController } from './session.controller';

@Module({ controllers: [SessionController] })
export class WebUiModule {}
