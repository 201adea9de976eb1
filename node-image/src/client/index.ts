/** The project's own IPMI 2.0 / RMCP+ client: a pure session state machine and its UDP shell. */
export * from './client-session';
export * from './ipmi-client';
export * from './udp-link';
