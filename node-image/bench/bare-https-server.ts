/**
 * The floor for the Redfish bench: a bare Node.js HTTPS server that answers every request with the
 * same recorded bytes (status, headers, body), with the same certificate and the same server
 * timeouts as the agent's Redfish transport. Run as a child process:
 *   node bare-https-server.js PORT CERT_FILE KEY_FILE RESPONSE_JSON_FILE
 * It prints "listening" once it accepts connections.
 */
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';

interface Recorded { readonly status: number; readonly headers: Record<string, string>; readonly body: string }

function main(): void {
  const [port, certFile, keyFile, responseFile] = process.argv.slice(2);
  if (!port || !certFile || !keyFile || !responseFile) throw new Error('usage: bare-https-server PORT CERT KEY RESPONSE_JSON');
  const recorded = JSON.parse(readFileSync(responseFile, 'utf8')) as Recorded;
  const body = Buffer.from(recorded.body);
  const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(recorded.status, recorded.headers); res.end(body); });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
}

main();
