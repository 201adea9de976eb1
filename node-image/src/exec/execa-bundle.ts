/**
 * Entry point of the separate bundle of execa (npm run bundle:agent writes it to
 * node-image/bundle/node_modules/execa/index.js, where the agent's bundle finds it with require).
 * Kept out of the agent's own bundle so that an agent that starts no program (a powered-off node)
 * does not hold execa's code: see docs/adr/0011-agent-child-processes-execa.md.
 */
export * from 'execa';
