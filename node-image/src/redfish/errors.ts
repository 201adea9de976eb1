/**
 * Redfish error responses (DSP0266 section 9.6 "Error responses"): the `error` object with a
 * Base message registry MessageId and one `@Message.ExtendedInfo` entry naming the property or
 * parameter at fault. Messages follow the Base registry's text for each MessageId.
 */
import type { JsonObject } from './http-types';

/** The Base message registry version the MessageIds below come from. */
export const BASE_REGISTRY = 'Base.1.16.0';

export type BaseMessage =
  | 'GeneralError' | 'MalformedJSON' | 'ResourceNotFound' | 'ResourceMissingAtURI' | 'NoValidSession'
  | 'ResourceAtUriUnauthorized' | 'InsufficientPrivilege' | 'PreconditionFailed' | 'PropertyValueNotInList'
  | 'PropertyValueTypeError' | 'PropertyNotWritable' | 'PropertyUnknown' | 'PropertyMissing' | 'ActionParameterMissing'
  | 'ActionParameterNotSupported' | 'ActionParameterValueTypeError' | 'ActionNotSupported' | 'OperationNotAllowed'
  | 'SessionLimitExceeded' | 'ServiceTemporarilyUnavailable' | 'PropertyValueOutOfRange' | 'UnsupportedMediaType'
  | 'RequestBodyTooLarge' | 'PropertyValueConflict'
  | 'ActionParameterUnknown' | 'ActionParameterValueNotInList' | 'ActionParameterValueFormatError'
  | 'ActionParameterValueConflict' | 'ActionParameterValueError' | 'PropertyValueFormatError' | 'PropertyValueError'
  | 'CouldNotEstablishConnection' | 'ResourceInUse'
  | 'ResourceAlreadyExists' | 'CreateLimitReachedForResource' | 'ResourceCannotBeDeleted'
  | 'PropertyValueIncorrect' | 'QueryParameterValueFormatError' | 'Success';

const SEVERITY: Partial<Record<BaseMessage, 'Critical' | 'Warning'>> = { GeneralError: 'Critical' };

export class RedfishError extends Error {
  constructor(
    readonly status: number,
    readonly messageId: BaseMessage,
    message: string,
    readonly args: readonly string[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'RedfishError';
  }

  body(): JsonObject {
    const id = `${BASE_REGISTRY}.${this.messageId}`;
    return {
      error: {
        code: id,
        message: this.message,
        '@Message.ExtendedInfo': [{
          '@odata.type': '#Message.v1_1_1.Message',
          MessageId: id,
          Message: this.message,
          MessageArgs: [...this.args],
          MessageSeverity: SEVERITY[this.messageId] ?? 'Warning',
          Resolution: resolution(this.messageId),
        }],
      },
    };
  }
}

function resolution(id: BaseMessage): string {
  switch (id) {
    case 'NoValidSession': case 'ResourceAtUriUnauthorized': return 'Log in with valid credentials, or create a session with POST to the Sessions collection.';
    case 'PreconditionFailed': return 'Read the resource again (GET) and retry with its current ETag in If-Match.';
    case 'MalformedJSON': return 'Send a body that is one valid JSON object.';
    case 'ServiceTemporarilyUnavailable': return 'Retry after the time given in Retry-After.';
    default: return 'Correct the request and resubmit it.';
  }
}

export const notFound = (path: string): RedfishError =>
  new RedfishError(404, 'ResourceMissingAtURI', `The resource at the URI '${path}' was not found.`, [path]);

export const unauthorized = (path: string): RedfishError =>
  new RedfishError(401, 'NoValidSession', `There is no valid session established with the implementation for '${path}'.`, [], { 'WWW-Authenticate': 'Basic realm="Redfish"' });

export const insufficientPrivilege = (): RedfishError =>
  new RedfishError(403, 'InsufficientPrivilege', 'There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.');

export const methodNotAllowed = (method: string, path: string, allow: readonly string[]): RedfishError =>
  new RedfishError(405, 'OperationNotAllowed', `The HTTP method ${method} is not allowed on '${path}'.`, [method, path], { Allow: allow.join(', ') });

export const preconditionFailed = (): RedfishError =>
  new RedfishError(412, 'PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.');

export const notInList = (value: string, property: string): RedfishError =>
  new RedfishError(400, 'PropertyValueNotInList', `The value '${value}' for the property ${property} is not in the list of acceptable values.`, [value, property]);

export const typeError = (value: unknown, property: string): RedfishError =>
  new RedfishError(400, 'PropertyValueTypeError', `The value '${JSON.stringify(value)}' for the property ${property} is not a type that the property can accept.`, [JSON.stringify(value), property]);

export const notWritable = (property: string): RedfishError =>
  new RedfishError(400, 'PropertyNotWritable', `The property ${property} is a read only property and cannot be assigned a value.`, [property]);

export const unknownProperty = (property: string): RedfishError =>
  new RedfishError(400, 'PropertyUnknown', `The property ${property} is not in the list of valid properties for the resource.`, [property]);
