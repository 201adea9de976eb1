/**
 * Set-up of the e2e jest project (jest.config.js): the time limit of each test and hook. The project's
 * own `testTimeout` says the same, but jest-circus reads only the global option, so it is set here.
 * A test boots the guest several times under TCG on 2 cores; every wait inside it has its own bound.
 */
jest.setTimeout(600_000);
