#!/usr/bin/env node
/**
 * Adds package-lock.json entries for optional platform packages (e.g. unrs-resolver's
 * @unrs/resolver-binding-darwin-arm64) that the npm registry reachable from these machines does not
 * serve. npm then writes a lock without them, and `npm ci` refuses that lock ("Missing: ... from lock
 * file"). The added entries carry only version, os, cpu and libc: npm never fetches them on a host
 * those rule out, exactly as with a lock written where the registry is complete.
 *
 *   node scripts/lockfile-platform-stubs.js [package-lock.json]   then: npm install (normalises order)
 *
 * Only needed after regenerating the lock from scratch; `npm install` keeps existing entries.
 */
'use strict';
const fs = require('node:fs');

const PLATFORM_SUFFIX =
  /-(android|darwin|freebsd|linux|openharmony|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(gnueabihf|musleabihf|gnu|musl|msvc|eabi))?$/;

function platformOf(name) {
  const match = PLATFORM_SUFFIX.exec(name);
  if (match === null) {
    throw new Error(`cannot tell the platform of ${name} from its name; add its entry by hand`);
  }
  const [, os, cpu, abi] = match;
  const libc = abi === 'gnu' || abi === 'gnueabihf' ? ['glibc'] : abi === 'musl' || abi === 'musleabihf' ? ['musl'] : null;
  return { os: [os], cpu: [cpu], libc };
}

/** Finds where Node would resolve `dependency` from the package at lock key `from`. */
function isResolvable(packages, from, dependency) {
  let base = from;
  for (;;) {
    if (packages[`${base === '' ? '' : `${base}/`}node_modules/${dependency}`] !== undefined) {
      return true;
    }
    if (base === '') {
      return false;
    }
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const added = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [dependency, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (isResolvable(lock.packages, key, dependency)) {
      continue;
    }
    const { os, cpu, libc } = platformOf(dependency);
    lock.packages[`node_modules/${dependency}`] = {
      version,
      cpu,
      ...(entry.dev === true ? { dev: true } : {}),
      ...(libc === null ? {} : { libc }),
      optional: true,
      os,
    };
    added.push(`${dependency}@${version}`);
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(added.length === 0 ? 'nothing to add\n' : `added ${added.length}: ${added.join(', ')}\n`);
