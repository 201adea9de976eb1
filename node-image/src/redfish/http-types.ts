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
}

export interface RedfishResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON body, or a string sent as it is (with its Content-Type in headers); undefined for none. */
  readonly body?: Json | string;
}
