#!/usr/bin/env node
/**
 * Writes docs/ipmi-commands.md from the agent's dispatch table (node-image/src/bmc/command-catalog.ts)
 * and docs/redfish-resources.md from its Redfish route table (node-image/src/redfish/resource-catalog.ts).
 * Needs the agent build: `npm run build:agent && node scripts/gen-docs.js`. With --check it writes
 * nothing and exits 1 when the document is out of date.
 */
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = join(root, 'node-image', 'dist', 'bmc', 'command-catalog.js');
if (!existsSync(built)) {
  process.stderr.write(`${built} is missing: run "npm run build:agent" first\n`);
  process.exit(2);
}
const { renderCommandReference, COMMAND_REFERENCE_PATH, REGENERATE_COMMAND } = require(built);
const redfish = require(join(root, 'node-image', 'dist', 'redfish', 'resource-catalog.js'));
const documents = [
  [COMMAND_REFERENCE_PATH, renderCommandReference()],
  [redfish.RESOURCE_REFERENCE_PATH, redfish.renderResourceReference()],
];

let stale = false;
for (const [path, text] of documents) {
  const target = join(root, path);
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${path} is out of date: run "${REGENERATE_COMMAND}"\n`);
      stale = true;
    } else {
      process.stdout.write(`${path} is up to date\n`);
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
if (stale) process.exit(1);
