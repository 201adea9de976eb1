/**
 * Why an export cannot be rendered. Thrown by the pure selection and renderers before anything is
 * rendered; exports-http.ts maps each code to an HTTP status.
 */

export const ExportErrorCode = {
  /** `names` lists nodes the fleet does not have. */
  UnknownNode: 'EXPORT_UNKNOWN_NODE',
  /** `names` lists a node that is being created or deleted (its BMC is not there to enrol). */
  NodeNotReady: 'EXPORT_NODE_NOT_READY',
  /** A Redfish driver for a node without a Redfish port. */
  NoRedfishPort: 'EXPORT_NO_REDFISH_PORT',
  /** A format that needs a MAC (MAAS) for a node whose VM has no NIC. */
  NoNic: 'EXPORT_NO_NIC',
  /** A driver the format has no equivalent of (MAAS has no virtual-media power type). */
  UnsupportedDriver: 'EXPORT_UNSUPPORTED_DRIVER',
  /** The BMC host to export is no address a client can reach (0.0.0.0, ::). */
  UnreachableHost: 'EXPORT_UNREACHABLE_HOST',
} as const;
export type ExportErrorCode = (typeof ExportErrorCode)[keyof typeof ExportErrorCode];

export class ExportError extends Error {
  constructor(
    readonly code: ExportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

/** "a, b, c" for the first `shown` names, then "and N more". */
export function namesText(names: readonly string[], shown = 10): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}
