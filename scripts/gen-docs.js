#!/usr/bin/env node
/**
 * Writes docs/ipmi-commands.md from the agent's dispatch table (node-image/src/bmc/command-catalog.ts).
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
const target = join(root, COMMAND_REFERENCE_PATH);
const text = renderCommandReference();

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`${COMMAND_REFERENCE_PATH} is out of date: run "${REGENERATE_COMMAND}"\n`);
    process.exit(1);
  }
  process.stdout.write(`${COMMAND_REFERENCE_PATH} is up to date\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${COMMAND_REFERENCE_PATH}\n`);
}
