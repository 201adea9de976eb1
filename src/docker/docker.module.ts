/**
 * The Docker engine for every module: DockerAdapter (the abstract class is the DI token) backed by
 * DockerodeAdapter. dockerode finds the engine itself (DOCKER_HOST, else /var/run/docker.sock).
 */
import { Global, Module } from '@nestjs/common';
import Dockerode from 'dockerode';
import { DockerAdapter } from './docker-adapter';
import { DockerodeAdapter } from './dockerode-adapter';

@Global()
@Module({
  providers: [{ provide: DockerAdapter, useFactory: (): DockerAdapter => new DockerodeAdapter(new Dockerode()) }],
  exports: [DockerAdapter],
})
export class DockerModule {}
