/** ContainerlabError → the HTTP error the API answers (every code mapped: a new one fails to compile). */
import { BadRequestException, ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import { ContainerlabError, ContainerlabErrorCode } from './containerlab.error';
import { httpErrorsOf } from '../common/http/domain-errors';

function assertNever(value: never): never {
  throw new Error(`unmapped containerlab error code ${String(value)}`);
}

export function toHttpException(error: ContainerlabError): HttpException {
  const body = { statusCode: 0, error: '', code: error.code, message: error.message };
  switch (error.code) {
    case ContainerlabErrorCode.UnknownNode:
      return new NotFoundException({ ...body, statusCode: 404, error: 'Not Found' });
    case ContainerlabErrorCode.NodeDeleting:
      return new ConflictException({ ...body, statusCode: 409, error: 'Conflict' });
    case ContainerlabErrorCode.InvalidLabName:
    case ContainerlabErrorCode.InvalidLink:
    case ContainerlabErrorCode.InvalidNodeName:
    case ContainerlabErrorCode.InvalidInterfaceName:
    case ContainerlabErrorCode.InterfaceNotDeclared:
    case ContainerlabErrorCode.DuplicateEndpoint:
    case ContainerlabErrorCode.NodeNotSelected:
    case ContainerlabErrorCode.NotRenderable:
      return new BadRequestException({ ...body, statusCode: 400, error: 'Bad Request' });
    default:
      return assertNever(error.code);
  }
}

/** Runs `fn`, turning a ContainerlabError into its HTTP error; anything else passes through. */
export const withHttpErrors = httpErrorsOf(ContainerlabError, toHttpException);
