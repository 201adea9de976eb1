/**
 * Makes sure the node image exists before the first node needs it: builds it through the Engine API
 * when missing, logging Docker's progress. One build at a time; concurrent creates wait for it.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DockerAdapter } from '../../docker/docker-adapter';

@Injectable()
export class NodeImageService {
  private readonly logger = new Logger('NodeImage');
  private pending: Promise<void> | null = null;
  private present = false;

  constructor(private readonly config: AppConfig, private readonly docker: DockerAdapter) {}

  ensure(): Promise<void> {
    if (this.present) return Promise.resolve();
    this.pending ??= this.check().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async check(): Promise<void> {
    const image = this.config.nodeImage;
    if (await this.docker.imageExists(image)) {
      this.present = true;
      return;
    }
    this.logger.log(`node image ${image} is missing: building it through the Docker API`);
    await this.docker.buildNodeImage(image, (line) => {
      const text = line.trim();
      if (text !== '') this.logger.log(`build ${image}: ${text}`);
    });
    this.logger.log(`node image ${image} built`);
    this.present = true;
  }
}
