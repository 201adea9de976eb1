/** ExportError → the HTTP error the API answers (every code mapped: a new one fails to compile). */
import { BadRequestException, ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import { ExportError, ExportErrorCode } from './export.error';
import { httpErrorsOf } from '../common/http/domain-errors';

function assertNever(value: never): never {
  throw new Error(`unmapped export error code ${String(value)}`);
}

export function toHttpException(error: ExportError): HttpException {
  const body = { statusCode: 0, error: '', code: error.code, message: error.message };
  switch (error.code) {
    case ExportErrorCode.UnknownNode:
      return new NotFoundException({ ...body, statusCode: 404, error: 'Not Found' });
    case ExportErrorCode.NodeNotReady:
    case ExportErrorCode.NoRedfishPort:
    case ExportErrorCode.NoNic:
      return new ConflictException({ ...body, statusCode: 409, error: 'Conflict' });
    case ExportErrorCode.UnsupportedDriver:
    case ExportErrorCode.UnreachableHost:
      return new BadRequestException({ ...body, statusCode: 400, error: 'Bad Request' });
    default:
      return assertNever(error.code);
  }
}

/** Runs `fn`, turning an ExportError into its HTTP error; anything else passes through. */
export const withHttpErrors = httpErrorsOf(ExportError, toHttpException);
