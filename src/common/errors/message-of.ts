/** The text of whatever was thrown, for logs, events and HTTP messages. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
