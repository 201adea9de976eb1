#!/usr/bin/env node
// Generates the Prisma client (src/generated/prisma) offline. `prisma generate` only checks that a
// schema-engine file exists; it never runs it. Where Prisma cannot download its engine (no internet),
// a placeholder path satisfies that check. With PRISMA_SCHEMA_ENGINE_BINARY set, that one is used.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const root = join(__dirname, '..');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
let placeholderDir = null;
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  placeholderDir = mkdtempSync(join(tmpdir(), 'bmcfleet-prisma-'));
  env.PRISMA_SCHEMA_ENGINE_BINARY = join(placeholderDir, 'schema-engine');
  writeFileSync(env.PRISMA_SCHEMA_ENGINE_BINARY, '');
}
const cli = require.resolve('prisma/build/index.js', { paths: [root] });
const result = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
if (placeholderDir !== null) rmSync(placeholderDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
