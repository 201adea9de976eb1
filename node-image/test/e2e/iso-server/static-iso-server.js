// A static HTTP server for end-to-end tests, run with the node image's own Node.js in a container of
// its own: serves the files of DIR by name with byte ranges (what QEMU's curl block driver reads),
// 404 for anything else. Usage: node static-iso-server.js DIR PORT
'use strict';
const { createReadStream, statSync } = require('node:fs');
const { createServer } = require('node:http');
const { basename, join } = require('node:path');

const [dir, port] = process.argv.slice(2);
createServer((req, res) => {
  const name = basename(decodeURIComponent((req.url || '').split('?')[0]));
  let size;
  try {
    const st = statSync(join(dir, name));
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    res.writeHead(404, 'Not Found');
    res.end();
    return;
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
  const start = range ? Number(range[1]) : 0;
  const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  res.writeHead(range ? 206 : 200, {
    'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1,
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  console.log(`${req.method} ${name} ${range ? `${start}-${end}` : 'whole'}`);
  if (req.method === 'HEAD') { res.end(); return; }
  createReadStream(join(dir, name), { start, end }).pipe(res);
}).listen(Number(port), '0.0.0.0', () => console.log(`listening on ${port}`));
