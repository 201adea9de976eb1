/** The transport-free request and response the Redfish router works on. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface RedfishRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** Header names in lower case (as Node gives them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The client's address, for the session record and logs. */
  readonly remote: string;
  /** The query string without its `?` (undefined when there is none). */
  readonly query?: string;
}

export interface RedfishResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON body, or a string sent as it is (with its Content-Type in headers); undefined for none. */
  readonly body?: Json | string;
  /** A body written over time (Server-Sent Events) instead of `body`. */
  readonly stream?: ResponseStream;
}

/**
 * A streamed body (DSP0266 section 13.5 Server-Sent Events). The transport sends the headers, then
 * calls `open` with `write` (false: the client is too far behind and the stream should end) and
 * `end`; `open` returns what to call once the stream is over, whoever ended it.
 */
export interface ResponseStream {
  open(write: (chunk: string) => boolean, end: () => void): () => void;
}
