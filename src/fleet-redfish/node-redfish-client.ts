/**
 * The fleet endpoint's one door to the nodes' Redfish services: HTTPS to a node's leased port,
 * accepting only the certificate the node's agent generated (pinned: the exact certificate read back
 * from the node's container, node-certificates.ts), never anything else, whatever names it carries.
 */
import { Injectable } from '@nestjs/common';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';

export interface NodeRedfishTarget {
  readonly host: string;
  readonly port: number;
  /** PEM of the only certificate the node may present. */
  readonly certificatePem: string;
}

export interface NodeHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface NodeHttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Why a node's Redfish service could not be asked: `certificate` means it presented another one. */
export class NodeRedfishUnreachable extends Error {
  constructor(
    readonly reason: 'certificate' | 'connection',
    message: string,
  ) {
    super(message);
    this.name = 'NodeRedfishUnreachable';
  }
}

/** Longest a node may take to answer one request (a power-on with media attaching waits inside it). */
export const NODE_REQUEST_TIMEOUT_MS = 60_000;
/** Largest answer taken from a node (SEL collections are the big ones). */
export const MAX_NODE_RESPONSE_BYTES = 8 * 1024 * 1024;

export abstract class NodeRedfishClient {
  abstract request(target: NodeRedfishTarget, req: NodeHttpRequest): Promise<NodeHttpResponse>;
}

@Injectable()
export class HttpsNodeRedfishClient extends NodeRedfishClient {
  request(target: NodeRedfishTarget, req: NodeHttpRequest): Promise<NodeHttpResponse> {
    const pinned = new X509Certificate(target.certificatePem);
    return new Promise<NodeHttpResponse>((resolve, reject) => {
      let certificateRefused = false;
      const outgoing = request(
        {
          host: target.host,
          port: target.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, ...(req.body.length > 0 ? { 'Content-Length': String(req.body.length) } : {}) },
          // The pinned certificate is the only trust anchor, and it must be exactly the one presented.
          ca: target.certificatePem,
          checkServerIdentity: (_host: string, presented: PeerCertificate) => {
            if (presented.raw !== undefined && pinned.raw.equals(presented.raw)) return undefined;
            certificateRefused = true;
            return new Error('the node presented another certificate than the one its agent generated');
          },
          minVersion: 'TLSv1.2',
          agent: false,
          timeout: NODE_REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_NODE_RESPONSE_BYTES) {
              response.destroy();
              reject(new NodeRedfishUnreachable('connection', `the answer was larger than ${MAX_NODE_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (typeof value === 'string') headers[name] = value;
              else if (Array.isArray(value)) headers[name] = value.join(', ');
            }
            resolve({ status: response.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
          });
          response.on('error', (error) => reject(new NodeRedfishUnreachable('connection', error.message)));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${NODE_REQUEST_TIMEOUT_MS / 1000} s`)));
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        const self = certificateRefused || /self[- ]signed|certificate|unable to verify/i.test(error.message);
        reject(new NodeRedfishUnreachable(self ? 'certificate' : 'connection', error.code === undefined ? error.message : `${error.code}: ${error.message}`));
      });
      outgoing.end(req.body.length > 0 ? req.body : undefined);
    });
  }
}
