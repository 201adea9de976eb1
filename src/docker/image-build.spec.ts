/**
 * The node image build's context and stream handling (image-build.ts): .dockerignore rules as
 * Docker applies them, the context the repository really gives, the tar it becomes, the build
 * stream decoder, the build arguments and the CA text. The build through the engine itself is in
 * test/integration/docker-adapter.int-spec.ts.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BuildStreamDecoder,
  buildErrorText,
  createContextFilter,
  DOCKERIGNORE,
  dockerignorePatterns,
  findRepositoryRoot,
  listContextEntries,
  NODE_DOCKERFILE,
  nodeImageBuildArgs,
  packContext,
  progressLines,
  readExtraCaCerts,
} from './image-build';

const REPO_ROOT = join(__dirname, '..', '..');
const SPEC_FILE = /\.(int-)?spec\.ts$/;
const PEM_A = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const PEM_B = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n\n';

interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Reads a tar stream's headers with tar-stream (tar-fs's own parser). */
async function tarHeaders(stream: NodeJS.ReadableStream): Promise<TarEntry[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tarStream = require('tar-stream') as {
    extract(): NodeJS.WritableStream & {
      on(event: 'entry', listener: (header: TarEntry, body: NodeJS.ReadableStream, next: () => void) => void): void;
      on(event: 'finish' | 'error', listener: (error?: Error) => void): void;
    };
  };
  const extract = tarStream.extract();
  const entries: TarEntry[] = [];
  return new Promise((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      entries.push({ name: header.name, type: header.type, mode: header.mode, uid: header.uid, gid: header.gid });
      body.on('end', next);
      body.resume();
    });
    extract.on('finish', () => resolve(entries));
    extract.on('error', (error) => reject(error));
    stream.pipe(extract);
  });
}

/** Every file and directory below `dir`, relative to `root`, "/"-separated, lexical order. */
function walk(root: string, dir: string): string[] {
  return readdirSync(join(root, dir))
    .sort()
    .flatMap((name) => {
      const path = `${dir}/${name}`;
      return statSync(join(root, path)).isDirectory() ? [path, ...walk(root, path)] : [path];
    });
}

describe('dockerignorePatterns', () => {
  it('drops comments and blank lines, cleans paths as Docker does and keeps "!"', () => {
    const text = '# comment\n\n*\n!package.json\n! node-image/src/\n/dist//x/\n./a/../b\r\n  spaced  \n';
    expect(dockerignorePatterns(text)).toEqual(['*', '!package.json', '!node-image/src', 'dist/x', 'b', 'spaced']);
  });
});

/** The node image's part of the repository's .dockerignore (the file also whitelists other images' inputs). */
const NODE_IMAGE_DOCKERIGNORE = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.base.json',
  '!node-image/package.json',
  '!node-image/tsconfig.json',
  '!node-image/tsconfig.build.json',
  '!node-image/src/',
  'node-image/src/**/*.spec.ts',
  'node-image/src/**/*.int-spec.ts',
].join('\n');

describe('createContextFilter with a whitelist', () => {
  const sut = createContextFilter(NODE_IMAGE_DOCKERIGNORE);

  it('keeps the whitelisted files and leaves everything else out', () => {
    for (const kept of ['package.json', 'package-lock.json', 'tsconfig.base.json', 'node-image/package.json', 'node-image/src', 'node-image/src/main.ts', 'node-image/src/a/b/c.ts']) {
      expect([kept, sut.excludes(kept)]).toEqual([kept, false]);
    }
    for (const left of ['src/main.ts', 'node_modules', 'node-image', 'node-image/dist/main.js', 'node-image/Dockerfile', '.dockerignore', 'node-image/src/x.spec.ts', 'node-image/src/a/y.int-spec.ts']) {
      expect([left, sut.excludes(left)]).toEqual([left, true]);
    }
  });

  it('walks into an excluded directory only when an exception may re-include something below it', () => {
    expect(sut.mayIncludeBelow('node-image')).toBe(true);
    expect(sut.mayIncludeBelow('node_modules')).toBe(false);
    expect(sut.mayIncludeBelow('node-image/dist')).toBe(false);
    expect(sut.mayIncludeBelow('src')).toBe(false);
  });
});

describe('listContextEntries', () => {
  it('lists from the repository every input of node-image/Dockerfile, the Dockerfile and .dockerignore, and nothing built or installed', async () => {
    const text = await readFile(join(REPO_ROOT, DOCKERIGNORE), 'utf8');
    const sut = await listContextEntries(REPO_ROOT, createContextFilter(text), [NODE_DOCKERFILE, DOCKERIGNORE]);
    const sources = ['node-image/src', ...walk(REPO_ROOT, 'node-image/src')].filter((path) => !SPEC_FILE.test(path));
    const inputs = ['package.json', 'package-lock.json', 'tsconfig.base.json', 'node-image/package.json', 'node-image/tsconfig.json', 'node-image/tsconfig.build.json', 'node-version.env', 'scripts/install-node.sh', ...sources];
    expect(sut).toEqual(expect.arrayContaining([...inputs, NODE_DOCKERFILE, DOCKERIGNORE]));
    expect(sut.filter((path) => /^(node_modules|dist|\.git|\.cache|node-image\/(dist|bundle|node_modules))(\/|$)/.test(path))).toEqual([]);
    expect(sut.filter((path) => SPEC_FILE.test(path))).toEqual([]);
    // Lexical order of the walk, as the CLI sends it; the two forced entries come last.
    expect(sut.slice(-2)).toEqual([NODE_DOCKERFILE, DOCKERIGNORE]);
    expect(new Set(sut).size).toBe(sut.length);
  });

  describe('in a scratch directory', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'bmcfleet-context-'));
      for (const dir of ['keep/sub', 'drop/sub', 'mixed/in', 'mixed/out']) mkdirSync(join(root, dir), { recursive: true });
      for (const file of ['top.txt', 'keep/a.txt', 'keep/sub/b.txt', 'keep/sub/b.log', 'drop/c.txt', 'drop/sub/d.txt', 'mixed/in/e.txt', 'mixed/out/f.txt', 'Dockerfile']) {
        writeFileSync(join(root, file), file);
      }
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('applies exclusions, exceptions and later exclusions in order, directories included as entries', async () => {
      const filter = createContextFilter('drop\n*.log\nkeep/**/*.log\nmixed\n!mixed/in\n');
      expect(await listContextEntries(root, filter)).toEqual([
        'Dockerfile',
        'keep',
        'keep/a.txt',
        'keep/sub',
        'keep/sub/b.txt',
        'mixed/in',
        'mixed/in/e.txt',
        'top.txt',
      ]);
    });

    it('adds what must always be sent when it is excluded, once', async () => {
      const filter = createContextFilter('*\n!top.txt\n');
      expect(await listContextEntries(root, filter, ['Dockerfile', 'top.txt'])).toEqual(['top.txt', 'Dockerfile']);
    });

    it('sends everything without a .dockerignore', async () => {
      expect(await listContextEntries(root, createContextFilter(''))).toEqual(walk(root, '').map((path) => path.slice(1)));
    });

    it('packs exactly the listed entries as the docker CLI does: owned by root, modes kept, directories named "dir/"', async () => {
      writeFileSync(join(root, 'keep/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
      const sut = await tarHeaders(packContext(root, ['keep', 'keep/run.sh', 'top.txt']));
      expect(sut).toEqual([
        { name: 'keep/', type: 'directory', mode: statSync(join(root, 'keep')).mode & 0o7777, uid: 0, gid: 0 },
        { name: 'keep/run.sh', type: 'file', mode: 0o755, uid: 0, gid: 0 },
        { name: 'top.txt', type: 'file', mode: statSync(join(root, 'top.txt')).mode & 0o7777, uid: 0, gid: 0 },
      ]);
    });
  });
});

describe('BuildStreamDecoder', () => {
  it('decodes messages cut anywhere, several in one chunk, and a last line without newline', () => {
    const sut = new BuildStreamDecoder();
    const text = '{"stream":"Step 1/2 : FROM x\\n"}\r\n{"stream":" ---\\u003e Using cache\\n"}\r\n{"aux":{"ID":"sha256:1"}}\n{"stream":"Successfully built 1"}';
    const messages = [...sut.push(text.slice(0, 7)), ...sut.push(text.slice(7, 60)), ...sut.push(text.slice(60)), ...sut.end()];
    expect(messages).toEqual([
      { stream: 'Step 1/2 : FROM x\n' },
      { stream: ' ---> Using cache\n' },
      { aux: { ID: 'sha256:1' } },
      { stream: 'Successfully built 1' },
    ]);
  });

  it('passes a line that is not a JSON object on as text', () => {
    const sut = new BuildStreamDecoder();
    expect(sut.push('plain words\n[1]\n')).toEqual([{ stream: 'plain words\n' }, { stream: '[1]\n' }]);
    expect(sut.end()).toEqual([]);
  });
});

describe('progressLines', () => {
  it('splits stream text into lines without trailing blanks', () => {
    expect(progressLines({ stream: 'Step 3/9 : RUN make\n ---> Running in 5e\n\n' })).toEqual(['Step 3/9 : RUN make', ' ---> Running in 5e']);
  });

  it('renders pull status with layer id and progress', () => {
    expect(progressLines({ status: 'Downloading', id: '3f4a', progress: '[==>  ] 1MB/9MB' })).toEqual(['3f4a: Downloading [==>  ] 1MB/9MB']);
    expect(progressLines({ status: 'Pulling from library/debian' })).toEqual(['Pulling from library/debian']);
  });

  it('has nothing to show for aux and error messages', () => {
    expect(progressLines({ aux: { ID: 'sha256:1' } })).toEqual([]);
    expect(progressLines({ error: 'x' })).toEqual([]);
  });
});

describe('buildErrorText', () => {
  it("is Docker's text of an error message, preferring errorDetail", () => {
    expect(buildErrorText({ error: 'short', errorDetail: { message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" } })).toBe(
      "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    );
    expect(buildErrorText({ error: 'pull access denied for x\n' })).toBe('pull access denied for x');
    expect(buildErrorText({ stream: 'fine' })).toBeNull();
  });
});

describe('nodeImageBuildArgs', () => {
  it('always passes BASE_IMAGE and EXTRA_CA_CERTS only when there is PEM text', () => {
    expect(nodeImageBuildArgs('debian:bookworm-slim', null)).toEqual({ BASE_IMAGE: 'debian:bookworm-slim' });
    expect(nodeImageBuildArgs('debian:bookworm-slim', '')).toEqual({ BASE_IMAGE: 'debian:bookworm-slim' });
    expect(nodeImageBuildArgs('local/base:1', PEM_A)).toEqual({ BASE_IMAGE: 'local/base:1', EXTRA_CA_CERTS: PEM_A });
  });
});

describe('readExtraCaCerts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmcfleet-cas-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('joins the *.crt files holding a certificate, by name, without the trailing newlines (as $(cat …))', async () => {
    writeFileSync(join(dir, 'b.crt'), PEM_B);
    writeFileSync(join(dir, 'a.crt'), PEM_A);
    writeFileSync(join(dir, 'empty.crt'), 'not a certificate\n');
    writeFileSync(join(dir, 'c.pem'), PEM_A);
    expect(await readExtraCaCerts(dir)).toBe(`${PEM_A}${PEM_B}`.replace(/\n+$/, ''));
  });

  it('is empty when the directory is missing', async () => {
    expect(await readExtraCaCerts(join(dir, 'missing'))).toBe('');
  });
});

describe('findRepositoryRoot', () => {
  it('finds the repository from this directory', () => {
    expect(findRepositoryRoot(__dirname)).toBe(REPO_ROOT);
  });

  it('says what it looked for when there is none', () => {
    expect(() => findRepositoryRoot(tmpdir())).toThrow(`no ${NODE_DOCKERFILE} in ${tmpdir()} or any directory above it`);
  });
});
