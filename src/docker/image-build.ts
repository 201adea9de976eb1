/**
 * Builds the node image (node-image/Dockerfile) through the Engine API, the way
 * scripts/build-image.sh does with the docker CLI: the repository root as context, filtered by the
 * root .dockerignore (a whitelist) with Docker's own rules, the build arguments BASE_IMAGE and
 * EXTRA_CA_CERTS, the classic builder with --force-rm. The context is packed as the CLI packs it
 * (files owned by root, no umask), so a build here reuses the layers of a CLI build and vice versa.
 *
 * Pure parts (the .dockerignore rules, the build stream decoder, the build arguments) are exported
 * for unit tests (image-build.spec.ts); the rest walks the file system and talks to the engine.
 */
import dockerignore from '@balena/dockerignore';
import type Dockerode from 'dockerode';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { DockerAdapterError, LABELS, ProgressListener } from './docker-adapter';
import { toAdapterError } from './dockerode-mapping';

/** The node image's Dockerfile, relative to the repository root (the build context). */
export const NODE_DOCKERFILE = 'node-image/Dockerfile';
export const DOCKERIGNORE = '.dockerignore';
/** The Dockerfile's default base; scripts/base-image.sh builds it locally where nothing can be pulled. */
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim';
/** Where a host keeps its locally added CAs (a TLS-inspecting proxy's CA lives here). */
export const LOCAL_CA_DIR = '/usr/local/share/ca-certificates';
const CA_FILE_SUFFIX = '.crt';
const PEM_CERTIFICATE = 'BEGIN CERTIFICATE';
/** The CLI packs the context as root:root (docker/cli build: ChownOpts 0:0); so do we, for the cache. */
const CONTEXT_OWNER_ID = 0;

export interface NodeImageBuildOptions {
  /** The build context (repository root); default: the directory above this file holding NODE_DOCKERFILE. */
  readonly contextDir?: string;
  /** BASE_IMAGE build argument (default DEFAULT_BASE_IMAGE). */
  readonly baseImage?: string;
  /**
   * EXTRA_CA_CERTS build argument (PEM text trusted by the build's download stages only); default:
   * the host's locally added CAs (LOCAL_CA_DIR/*.crt), as scripts/build-image.sh passes them; null: none.
   */
  readonly extraCaCerts?: string | null;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules (pure)

/** Which paths of the context Docker sends, from the text of a .dockerignore. */
export interface ContextFilter {
  /** Whether a path (relative, "/"-separated) is left out. */
  excludes(path: string): boolean;
  /**
   * Whether an excluded directory must still be walked: an exception ("!pattern") may re-include
   * something below it. Docker's CLI decides this with the same prefix test (it does not expand
   * wildcards of exceptions either).
   */
  mayIncludeBelow(directory: string): boolean;
}

/** The patterns of a .dockerignore as Docker reads them: no comments, no blanks, no leading "/". */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = cleanPath(negated ? line.slice(1).trim() : line);
      return negated ? `!${pattern}` : pattern;
    });
}

/** Go's filepath.Clean for relative patterns, as Docker applies it: no "./", "//", trailing "/". */
function cleanPath(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

export function createContextFilter(dockerignoreText: string): ContextFilter {
  const patterns = dockerignorePatterns(dockerignoreText);
  const rules = dockerignore({ ignorecase: false }).add(patterns);
  const exceptions = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
  return {
    excludes: (path) => rules.ignores(path),
    mayIncludeBelow: (directory) => exceptions.some((exception) => `${exception}/`.startsWith(`${directory}/`)),
  };
}

// ---------------------------------------------------------------------------------------------
// The build's output stream (pure)

/** One JSON message of POST /build's answer. */
export interface BuildMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly progress?: string;
  readonly id?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: unknown;
}

/**
 * Splits the build answer (JSON messages, one per line, cut anywhere by the transport) into
 * messages. A line that is not JSON is passed on as text, never dropped.
 */
export class BuildStreamDecoder {
  private pending = '';

  push(chunk: string): BuildMessage[] {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.flatMap(parseBuildLine);
  }

  /** What is left when the stream ends (a last line without its newline). */
  end(): BuildMessage[] {
    const rest = this.pending;
    this.pending = '';
    return parseBuildLine(rest);
  }
}

function parseBuildLine(line: string): BuildMessage[] {
  const text = line.trim();
  if (text === '') return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return [parsed as BuildMessage];
  } catch {
    // not JSON: fall through
  }
  return [{ stream: `${text}\n` }];
}

/** The lines a person reads of one message ("Step 3/20 : RUN …", " ---> Using cache", pulls). */
export function progressLines(message: BuildMessage): string[] {
  if (message.stream !== undefined) {
    return message.stream
      .split('\n')
      .map((line) => line.replace(/\s+$/, ''))
      .filter((line) => line !== '');
  }
  if (message.status !== undefined) {
    const parts = [message.id === undefined ? '' : `${message.id}: `, message.status, message.progress === undefined ? '' : ` ${message.progress}`];
    return [parts.join('')];
  }
  return [];
}

/** Docker's error text when the message reports the build's failure, else null. */
export function buildErrorText(message: BuildMessage): string | null {
  const text = message.errorDetail?.message ?? message.error;
  return text === undefined ? null : text.trim();
}

/** The node Dockerfile's build arguments; EXTRA_CA_CERTS only when there is something to trust. */
export function nodeImageBuildArgs(baseImage: string, extraCaCerts: string | null): Record<string, string> {
  const args: Record<string, string> = { BASE_IMAGE: baseImage };
  if (extraCaCerts !== null && extraCaCerts !== '') args['EXTRA_CA_CERTS'] = extraCaCerts;
  return args;
}

// ---------------------------------------------------------------------------------------------
// The context on disk

/**
 * The entries Docker's CLI would send, in its order (lexical walk): files and directories that are
 * not excluded, walking into excluded directories only where an exception may re-include something.
 * `alwaysSend` (the Dockerfile, the .dockerignore) is added when excluded: the daemon needs them,
 * and removes them itself when .dockerignore names them (as the CLI arranges).
 */
export async function listContextEntries(root: string, filter: ContextFilter, alwaysSend: readonly string[] = []): Promise<string[]> {
  const entries: string[] = [];
  const walk = async (relativeDir: string): Promise<void> => {
    const names = (await fs.readdir(join(root, relativeDir))).sort();
    for (const name of names) {
      const path = relativeDir === '' ? name : `${relativeDir}/${name}`;
      const stat = await fs.lstat(join(root, path));
      const excluded = filter.excludes(path);
      if (stat.isDirectory()) {
        if (!excluded) entries.push(path);
        if (!excluded || filter.mayIncludeBelow(path)) await walk(path);
      } else if (!excluded) {
        entries.push(path);
      }
    }
  };
  await walk('');
  for (const path of alwaysSend) {
    if (!entries.includes(path)) entries.push(path);
  }
  return entries;
}

interface TarHeader {
  name: string;
  type: string;
  uid: number;
  gid: number;
}

interface TarFs {
  pack(cwd: string, options: { entries: string[]; ignore: (name: string) => boolean; map: (header: TarHeader) => TarHeader; umask: number }): NodeJS.ReadableStream;
}

/**
 * A tar stream of exactly `entries` (paths relative to root; a directory adds only itself), owned
 * by root, modes as on disk, directories named with a trailing "/": header for header what the
 * docker CLI sends, so the daemon's layer cache is shared. tar-fs is dockerode's own packer; it ships
 * no types, hence the require.
 */
export function packContext(root: string, entries: readonly string[]): NodeJS.ReadableStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tarFs = require('tar-fs') as TarFs;
  return tarFs.pack(root, {
    entries: [...entries],
    // Listed directories are not walked: their wanted contents are listed themselves.
    ignore: () => true,
    map: (header) => ({
      ...header,
      // The daemon's cache key (tarsum) covers each header's name: the CLI names directories "dir/".
      name: header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name,
      uid: CONTEXT_OWNER_ID,
      gid: CONTEXT_OWNER_ID,
    }),
    umask: 0,
  });
}

/** The directory above `from` that holds NODE_DOCKERFILE (src/docker and dist/src/docker both work). */
export function findRepositoryRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, NODE_DOCKERFILE))) return dir;
    if (dirname(dir) === dir) {
      throw new DockerAdapterError('engine', `cannot build the node image: no ${NODE_DOCKERFILE} in ${from} or any directory above it`);
    }
  }
}

/**
 * PEM text of the CA files in `dir` (*.crt holding a certificate, by name), joined as
 * scripts/build-image.sh joins them (`$(cat …)`: trailing newlines dropped), so both builds pass the
 * same argument and share the cache. Empty when the directory is missing.
 */
export async function readExtraCaCerts(dir: string = LOCAL_CA_DIR): Promise<string> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((name) => name.endsWith(CA_FILE_SUFFIX)).sort();
  } catch {
    return '';
  }
  let pem = '';
  for (const name of names) {
    const text = await fs.readFile(join(dir, name), 'utf8').catch(() => '');
    if (text.includes(PEM_CERTIFICATE)) pem += text;
  }
  return pem.replace(/\n+$/, '');
}

// ---------------------------------------------------------------------------------------------
// The build through the Engine API

export interface ImageBuildRequest {
  readonly tag: string;
  /** Relative to the context's root. */
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * POST /build of a packed context; every progress line goes to `onProgress`. Resolves when the
 * engine reports success; throws a DockerAdapterError with Docker's error text otherwise (a failed
 * step, a base that cannot be pulled, a Dockerfile missing from the context).
 */
export async function runImageBuild(
  docker: Dockerode,
  context: NodeJS.ReadableStream,
  request: ImageBuildRequest,
  onProgress: ProgressListener,
): Promise<void> {
  const operation = `build of image ${request.tag}`;
  let output: NodeJS.ReadableStream;
  try {
    output = await docker.buildImage(context, {
      t: request.tag,
      dockerfile: request.dockerfile,
      buildargs: { ...request.buildArgs },
      labels: { ...request.labels },
      // The classic builder keeps a failed step's container without it (scripts/build-image.sh too).
      rm: true,
      forcerm: true,
    });
  } catch (error) {
    throw toAdapterError(operation, error);
  }

  const decoder = new BuildStreamDecoder();
  let failure: string | null = null;
  const handle = (messages: BuildMessage[]): void => {
    for (const message of messages) {
      for (const line of progressLines(message)) onProgress(line);
      failure ??= buildErrorText(message);
    }
  };
  await new Promise<void>((resolve, reject) => {
    output.on('data', (chunk: Buffer | string) => handle(decoder.push(chunk.toString())));
    output.on('end', () => {
      handle(decoder.end());
      resolve();
    });
    output.on('error', (error: unknown) => reject(toAdapterError(operation, error)));
  });
  if (failure !== null) throw new DockerAdapterError('engine', `${operation} failed: ${failure}`);
}

/** Whether the engine has the image (tag or id). */
async function hasImage(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the node image as `image` from the repository (NODE_DOCKERFILE, the root .dockerignore),
 * labelled as the orchestrator's. A missing base image that cannot be pulled gets a hint.
 */
export async function buildNodeImage(
  docker: Dockerode,
  image: string,
  onProgress: ProgressListener,
  options: NodeImageBuildOptions = {},
): Promise<void> {
  const root = options.contextDir ?? findRepositoryRoot();
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const extraCaCerts = options.extraCaCerts === undefined ? await readExtraCaCerts() : options.extraCaCerts;
  // Without a .dockerignore Docker sends everything; so do we.
  const ignoreText = await fs.readFile(join(root, DOCKERIGNORE), 'utf8').catch(() => '');
  const entries = await listContextEntries(root, createContextFilter(ignoreText), [NODE_DOCKERFILE, DOCKERIGNORE].filter((path) => existsSync(join(root, path))));
  const basePresent = await hasImage(docker, baseImage);

  try {
    await runImageBuild(
      docker,
      packContext(root, entries),
      { tag: image, dockerfile: NODE_DOCKERFILE, buildArgs: nodeImageBuildArgs(baseImage, extraCaCerts), labels: { [LABELS.managed]: 'true' } },
      onProgress,
    );
  } catch (error) {
    if (error instanceof DockerAdapterError && !basePresent) {
      throw new DockerAdapterError(
        error.kind,
        `${error.message} (the base image ${baseImage} is not on the engine and could not be pulled: where no registry is reachable, scripts/base-image.sh builds it locally)`,
        error.statusCode,
      );
    }
    throw error;
  }
}
