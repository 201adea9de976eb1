/**
 * Where the topology API lives: the controller's paths, and the full path clients call. The prefix is
 * API_PREFIX of app.factory.ts (not imported: clients should not load the application to build a
 * URL); test/integration/containerlab-schema.int-spec.ts checks that the two agree.
 */
export const CONTAINERLAB_CONTROLLER_PATH = 'containerlab';
export const TOPOLOGY_ROUTE = 'topology';
export const CONTAINERLAB_TOPOLOGY_PATH = `/api/v1/${CONTAINERLAB_CONTROLLER_PATH}/${TOPOLOGY_ROUTE}`;
