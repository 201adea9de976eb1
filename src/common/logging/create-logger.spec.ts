import { enabledLogLevels } from './create-logger';

describe('enabledLogLevels', () => {
  it('enables the chosen level and every more severe one', () => {
    expect(enabledLogLevels('log')).toEqual(['log', 'warn', 'error', 'fatal']);
    expect(enabledLogLevels('debug')).toEqual(['debug', 'log', 'warn', 'error', 'fatal']);
  });

  it('keeps fatal even at the quietest setting', () => {
    expect(enabledLogLevels('fatal')).toEqual(['fatal']);
  });

  it('enables everything at verbose', () => {
    expect(enabledLogLevels('verbose')).toHaveLength(6);
  });
});
