import { DockerAdapterError } from '../../docker/docker-adapter';
import { ImageMissingError, NameTakenError, NodeNotFoundError, PortInUseError, RuntimeUnavailableError } from '../runtime-errors';
import { portOfBindFailure, runtimeErrorOf, runtimeStateOf } from './docker-errors';

describe('Docker answers in the runtime\'s terms', () => {
  it('maps every container state onto a runtime node state', () => {
    expect((['created', 'exited', 'running', 'paused', 'restarting', 'removing', 'dead'] as const).map(runtimeStateOf))
      .toEqual(['stopped', 'stopped', 'running', 'paused', 'changing', 'changing', 'broken']);
  });

  it('reads the port out of both of Docker\'s bind failures, null when it names none', () => {
    expect(portOfBindFailure('driver failed programming external connectivity on endpoint n1 (0f3c): Bind for 127.0.0.1:16230 failed: port is already allocated')).toBe(16230);
    expect(portOfBindFailure('Error starting userland proxy: listen udp4 127.0.0.1:16231: bind: address already in use')).toBe(16231);
    expect(portOfBindFailure('address already in use')).toBeNull();
  });

  it('turns each DockerAdapterError kind into its runtime error, keeping Docker\'s text', () => {
    const spec = { ref: 'bmcfleet-n1', image: 'bmcfleet/node:latest' } as Parameters<typeof runtimeErrorOf>[2];
    const port = runtimeErrorOf(new DockerAdapterError('port-in-use', 'start failed: Bind for 127.0.0.1:16230 failed: port is already allocated'), 'container bmcfleet-n1', spec);
    expect(port).toBeInstanceOf(PortInUseError);
    expect(port).toMatchObject({ port: 16230, message: expect.stringContaining('port is already allocated') });
    expect(runtimeErrorOf(new DockerAdapterError('image-missing', 'no such image'), 'x', spec)).toEqual(expect.any(ImageMissingError));
    expect(runtimeErrorOf(new DockerAdapterError('conflict', 'name in use'), 'x', spec)).toMatchObject({ ref: 'bmcfleet-n1' });
    expect(runtimeErrorOf(new DockerAdapterError('conflict', 'name in use'), 'x', spec)).toBeInstanceOf(NameTakenError);
    expect(runtimeErrorOf(new DockerAdapterError('not-found', 'no such network'), 'x', spec)).toBeInstanceOf(NodeNotFoundError);
    const engine = runtimeErrorOf(new DockerAdapterError('engine', 'connect ENOENT /var/run/docker.sock'), 'engine info');
    expect(engine).toBeInstanceOf(RuntimeUnavailableError);
    expect(engine.message).toBe('Docker engine: connect ENOENT /var/run/docker.sock');
  });
});
