/**
 * DockerAdapter on the Engine API through dockerode (which finds the engine itself: DOCKER_HOST, or
 * /var/run/docker.sock). The only file that talks to the engine; the translations it relies on are
 * pure (dockerode-mapping.ts) and the image build has its own file (image-build.ts).
 *
 * Idempotence, for the create path and the reconciler racing each other (and 50 creates at once):
 * creating an existing volume returns it; a name conflict on create resolves to the existing
 * container when its labels carry the same node id; 304 on start/stop and 404 on stop/remove are
 * success; connecting a network twice is success.
 */
import { Injectable, Logger } from '@nestjs/common';
import Dockerode from 'dockerode';
import {
  DockerAdapter,
  DockerAdapterError,
  HostCapacity,
  InspectedContainer,
  LABELS,
  ManagedContainer,
  NetworkInfo,
  NodeContainerSpec,
  ProgressListener,
  VolumeInfo,
} from './docker-adapter';
import {
  classifyDockerError,
  containerCreateOptions,
  fleetContainerFilters,
  isSameNode,
  ownerText,
  toAdapterError,
  toInspectedContainer,
  toManagedContainer,
  toNetworkInfo,
  volumeCreateOptions,
} from './dockerode-mapping';
import { buildNodeImage, NodeImageBuildOptions } from './image-build';
import { firstRegularFile, TarFormatError } from './tar-single-file';

/** 304: already started / already stopped. */
const HTTP_NOT_MODIFIED = 304;
/** How long a create that lost the name to a concurrent create waits for that container to appear. */
const NAME_RACE_WAIT_MS = 30_000;
const NAME_RACE_POLL_MS = 100;
/** How long a remove waits for another caller's removal of the same container to finish. */
const REMOVAL_WAIT_MS = 60_000;
const REMOVAL_POLL_MS = 250;
const REMOVAL_IN_PROGRESS = /removal of container .* is already in progress/i;
const ALREADY_CONNECTED = /already exists in network/i;
/** Tar header, pax headers and padding around one file (tar-single-file.ts). */
const TAR_OVERHEAD_BYTES = 8 * 1024;

@Injectable()
export class DockerodeAdapter extends DockerAdapter {
  private readonly logger = new Logger(DockerodeAdapter.name);
  private cpus: number | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly buildOptions: NodeImageBuildOptions = {},
  ) {
    super();
  }

  async ping(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch (error) {
      this.logger.debug(`engine ping failed: ${classifyDockerError(error).text}`);
      return false;
    }
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (classifyDockerError(error).statusCode === 404) return false;
      throw toAdapterError(`inspect of image ${image}`, error);
    }
  }

  async buildNodeImage(image: string, onProgress: ProgressListener): Promise<void> {
    this.logger.debug(`building image ${image}`);
    try {
      await buildNodeImage(this.docker, image, onProgress, this.buildOptions);
    } catch (error) {
      // Reading the context can fail too (a file vanishing mid-walk): still a DockerAdapterError.
      throw toAdapterError(`build of image ${image}`, error);
    }
    this.logger.debug(`built image ${image}`);
  }

  async createNodeContainer(spec: NodeContainerSpec): Promise<string> {
    await this.ensureVolume(spec);
    const operation = `create of container ${spec.name}`;
    const deadline = Date.now() + NAME_RACE_WAIT_MS;
    for (;;) {
      // The usual re-create finds it here, without a failed request.
      const existing = await this.inspectContainer(spec.name);
      if (existing !== null) return this.adopt(spec, existing);
      try {
        this.logger.debug(`creating container ${spec.name} (${spec.image})`);
        const container = await this.docker.createContainer(containerCreateOptions(spec, await this.engineCpus()));
        this.logger.debug(`created container ${spec.name} (${container.id})`);
        return container.id;
      } catch (error) {
        const failure = classifyDockerError(error);
        if (failure.kind === 'image-missing') {
          throw new DockerAdapterError(
            'image-missing',
            `${operation} failed: the image ${spec.image} is not on the Docker engine (${failure.text})`,
            failure.statusCode,
          );
        }
        if (failure.kind !== 'conflict') throw toAdapterError(operation, error);
        // A concurrent create holds the name: Docker reserves it before the container can be
        // inspected, so look again shortly (bounded) and adopt it then.
        if (Date.now() > deadline) {
          throw new DockerAdapterError('conflict', `${operation} failed: the name stayed taken for ${NAME_RACE_WAIT_MS / 1000} s by a container that cannot be inspected (${failure.text})`, failure.statusCode);
        }
        this.logger.debug(`container ${spec.name} is being created concurrently: ${failure.text}`);
        await sleep(NAME_RACE_POLL_MS);
      }
    }
  }

  /** The engine's CPU count (Docker's NCPU), asked once. */
  private async engineCpus(): Promise<number> {
    if (this.cpus === undefined) {
      try {
        this.cpus = Number((await this.docker.info() as { NCPU?: unknown }).NCPU) || 1;
      } catch (error) {
        throw toAdapterError('reading the engine\'s CPU count', error);
      }
    }
    return this.cpus;
  }

  async startContainer(name: string): Promise<void> {
    this.logger.debug(`starting container ${name}`);
    try {
      await this.docker.getContainer(name).start();
    } catch (error) {
      if (classifyDockerError(error).statusCode !== HTTP_NOT_MODIFIED) throw toAdapterError(`start of container ${name}`, error);
    }
    this.logger.debug(`container ${name} running`);
  }

  async stopContainer(name: string, timeoutSeconds: number): Promise<void> {
    this.logger.debug(`stopping container ${name} (timeout ${timeoutSeconds} s)`);
    try {
      await this.docker.getContainer(name).stop({ t: timeoutSeconds });
    } catch (error) {
      const failure = classifyDockerError(error);
      if (failure.statusCode !== HTTP_NOT_MODIFIED && failure.kind !== 'not-found') throw toAdapterError(`stop of container ${name}`, error);
    }
    this.logger.debug(`container ${name} stopped`);
  }

  async unpauseContainer(name: string): Promise<void> {
    this.logger.debug(`unpausing container ${name}`);
    try {
      await this.docker.getContainer(name).unpause();
    } catch (error) {
      // 409 "is not paused": what was asked.
      if (classifyDockerError(error).kind !== 'conflict') throw toAdapterError(`unpause of container ${name}`, error);
    }
    this.logger.debug(`container ${name} unpaused`);
  }

  async removeContainer(name: string): Promise<void> {
    this.logger.debug(`removing container ${name}`);
    try {
      // v: anonymous volumes go with it; the named /vm volume stays (removeVolume).
      await this.docker.getContainer(name).remove({ force: true, v: true });
    } catch (error) {
      const failure = classifyDockerError(error);
      if (failure.kind === 'conflict' && REMOVAL_IN_PROGRESS.test(failure.text)) {
        await this.waitUntilGone(name);
      } else if (failure.kind !== 'not-found') {
        throw toAdapterError(`removal of container ${name}`, error);
      }
    }
    this.logger.debug(`container ${name} removed`);
  }

  async removeVolume(name: string): Promise<void> {
    this.logger.debug(`removing volume ${name}`);
    try {
      await this.docker.getVolume(name).remove();
    } catch (error) {
      if (classifyDockerError(error).kind !== 'not-found') throw toAdapterError(`removal of volume ${name}`, error);
    }
    this.logger.debug(`volume ${name} removed`);
  }

  async inspectVolume(name: string): Promise<VolumeInfo | null> {
    try {
      const info = await this.docker.getVolume(name).inspect();
      return { name: info.Name, labels: { ...(info.Labels ?? {}) } };
    } catch (error) {
      if (classifyDockerError(error).kind === 'not-found') return null;
      throw toAdapterError(`inspect of volume ${name}`, error);
    }
  }

  async inspectContainer(name: string): Promise<InspectedContainer | null> {
    try {
      return toInspectedContainer(await this.docker.getContainer(name).inspect());
    } catch (error) {
      if (classifyDockerError(error).kind === 'not-found') return null;
      throw toAdapterError(`inspect of container ${name}`, error);
    }
  }

  async readContainerFile(containerName: string, path: string, maxBytes: number): Promise<Buffer | null> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.docker.getContainer(containerName).getArchive({ path })) as NodeJS.ReadableStream;
    } catch (error) {
      if (classifyDockerError(error).kind === 'not-found') return null;
      throw toAdapterError(`reading ${path} of container ${containerName}`, error);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // The archive is the file plus a header and padding: a few blocks more than the file itself.
    const limit = maxBytes + TAR_OVERHEAD_BYTES;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        throw new DockerAdapterError('engine', `${path} of container ${containerName} is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    try {
      return firstRegularFile(Buffer.concat(chunks));
    } catch (error) {
      if (error instanceof TarFormatError) throw new DockerAdapterError('engine', `reading ${path} of container ${containerName}: ${error.message}`);
      throw error;
    }
  }

  async listFleetContainers(fleetId: string): Promise<ManagedContainer[]> {
    try {
      const listed = await this.docker.listContainers({ all: true, filters: fleetContainerFilters(fleetId) });
      return listed.map(toManagedContainer);
    } catch (error) {
      throw toAdapterError(`listing the containers of fleet ${fleetId}`, error);
    }
  }

  async hostCapacity(): Promise<HostCapacity> {
    try {
      const info = (await this.docker.info()) as { MemTotal?: unknown; NCPU?: unknown; Name?: unknown };
      if (typeof info.MemTotal !== 'number' || typeof info.NCPU !== 'number') {
        throw new DockerAdapterError('engine', 'engine info lacks MemTotal or NCPU');
      }
      return { name: typeof info.Name === 'string' && info.Name !== '' ? info.Name : 'localhost', memoryBytes: info.MemTotal, cpus: info.NCPU };
    } catch (error) {
      if (error instanceof DockerAdapterError) throw error;
      throw toAdapterError('engine info', error);
    }
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | null> {
    try {
      return toNetworkInfo((await this.docker.getNetwork(name).inspect()) as Dockerode.NetworkInspectInfo);
    } catch (error) {
      if (classifyDockerError(error).kind === 'not-found') return null;
      throw toAdapterError(`inspect of network ${name}`, error);
    }
  }

  async connectNetwork(containerName: string, networkName: string): Promise<void> {
    const operation = `connecting container ${containerName} to network ${networkName}`;
    const container = await this.inspectContainer(containerName);
    if (container === null) throw new DockerAdapterError('not-found', `${operation} failed: no such container`, 404);
    if (container.networks.includes(networkName)) return;
    // Docker accepts a missing network for a container that is not running (and fails its start later).
    if ((await this.inspectNetwork(networkName)) === null) throw new DockerAdapterError('not-found', `${operation} failed: no such network`, 404);
    this.logger.debug(operation);
    try {
      await this.docker.getNetwork(networkName).connect({ Container: containerName });
    } catch (error) {
      // Connected by a concurrent caller (or named by id above): that is what was asked.
      if (!ALREADY_CONNECTED.test(classifyDockerError(error).text)) throw toAdapterError(operation, error);
    }
    this.logger.debug(`connected container ${containerName} to network ${networkName}`);
  }

  /** Creates the node's volume, or finds it: Docker returns an existing volume as it is (labels unchanged). */
  private async ensureVolume(spec: NodeContainerSpec): Promise<void> {
    const options = volumeCreateOptions(spec);
    let labels: Record<string, string>;
    try {
      const volume = await this.docker.createVolume(options);
      // dockerode answers a handle, not Docker's answer: the labels of an existing volume need a look.
      labels = (await volume.inspect()).Labels ?? {};
    } catch (error) {
      throw toAdapterError(`create of volume ${spec.volumeName} for container ${spec.name}`, error);
    }
    // A volume of another fleet (same FLEET_NAME on one engine), or one nobody labelled (made by
    // hand or by another tool), must not become this node's disk.
    if (labels[LABELS.fleet] !== spec.labels[LABELS.fleet]) {
      throw new DockerAdapterError('conflict', `create of container ${spec.name} failed: its volume ${spec.volumeName} belongs to ${ownerText(labels)}`);
    }
  }

  /** The container of that name is ours when its labels say it is this node; otherwise a conflict. */
  private adopt(spec: NodeContainerSpec, existing: InspectedContainer): string {
    if (isSameNode(existing.labels, spec.labels)) {
      this.logger.debug(`container ${spec.name} exists (${existing.id})`);
      return existing.id;
    }
    throw new DockerAdapterError(
      'conflict',
      `create of container ${spec.name} failed: the name is taken by container ${existing.id.slice(0, 12)}, ` +
        `which is ${ownerText(existing.labels)}, not node ${spec.labels[LABELS.node] ?? '?'} (id ${spec.labels[LABELS.nodeId] ?? '?'})`,
      409,
    );
  }

  private async waitUntilGone(name: string): Promise<void> {
    const deadline = Date.now() + REMOVAL_WAIT_MS;
    while ((await this.inspectContainer(name)) !== null) {
      if (Date.now() > deadline) {
        throw new DockerAdapterError('engine', `removal of container ${name} failed: another removal did not finish within ${REMOVAL_WAIT_MS / 1000} s`);
      }
      await sleep(REMOVAL_POLL_MS);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
