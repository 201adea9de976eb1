import { describeRule, reportFaults, ruleKey, type AgentFaultRule, type RuleSeen } from './fault-report';

const busy = (applied: number, over: Partial<AgentFaultRule> = {}): AgentFaultRule => ({
  id: 'f1',
  match: { protocol: 'ipmi', netFn: 0x00, cmd: 0x01 },
  action: { kind: 'completion-code', code: 0xc0 },
  when: { maxTimes: 2 },
  addedAt: '2026-12-07T19:00:00.000Z',
  matches: applied,
  applied,
  ...over,
});
const GAP = 30_000;

describe('reportFaults', () => {
  it('tells the first firing at once, with the count when several came together', () => {
    const r = reportFaults(new Map(), [busy(2)], 1_000, GAP);
    expect(r.fired).toEqual(new Map([['completion-code', 2]]));
    expect(r.events).toEqual(['fault rule f1 fired: completion-code 0xc0 on ipmi netFn 0x00 cmd 0x01 (2 times)']);
    expect(r.seen.get(ruleKey(busy(2)))).toEqual({ applied: 2, told: 2, toldAt: 1_000 });
  });

  it('counts later firings at once but tells them at most once per gap, with the count since the last event', () => {
    let seen: Map<string, RuleSeen> = reportFaults(new Map(), [busy(1)], 0, GAP).seen;
    const quiet = reportFaults(seen, [busy(5)], 10_000, GAP);
    expect(quiet.fired).toEqual(new Map([['completion-code', 4]]));
    expect(quiet.events).toEqual([]);
    seen = quiet.seen;
    const told = reportFaults(seen, [busy(7)], 30_000, GAP);
    expect(told.fired).toEqual(new Map([['completion-code', 2]]));
    expect(told.events).toEqual(['fault rule f1 fired 6 more times (7 in all)']);
    expect(reportFaults(told.seen, [busy(7)], 90_000, GAP).events).toEqual([]);
  });

  it('flush tells untold firings inside the gap', () => {
    const seen = reportFaults(reportFaults(new Map(), [busy(1)], 0, GAP).seen, [busy(2)], 1, GAP).seen;
    expect(reportFaults(seen, [busy(2)], 2, GAP, true).events).toEqual(['fault rule f1 fired 1 more time (2 in all)']);
  });

  it('says nothing of a rule that has not acted, and forgets rules the agent no longer has', () => {
    const r = reportFaults(new Map([['f9@x', { applied: 3, told: 3, toldAt: 0 }]]), [busy(0)], 0, GAP);
    expect(r.events).toEqual([]);
    expect(r.fired.size).toBe(0);
    expect([...r.seen.keys()]).toEqual([ruleKey(busy(0))]);
  });

  it('takes a rule with a reused id but another addedAt (the agent restarted) as new', () => {
    const seen = reportFaults(new Map(), [busy(5)], 0, GAP).seen;
    const again = busy(1, { addedAt: '2026-12-07T20:00:00.000Z' });
    const r = reportFaults(seen, [again], 1, GAP);
    expect(r.fired).toEqual(new Map([['completion-code', 1]]));
    expect(r.events).toEqual(['fault rule f1 fired: completion-code 0xc0 on ipmi netFn 0x00 cmd 0x01']);
  });
});

describe('describeRule', () => {
  it('names the match, the action and when it acts', () => {
    expect(describeRule(busy(0))).toBe('f1: ipmi netFn 0x00 cmd 0x01 → completion-code 0xc0 (at most 2 times)');
    expect(describeRule({ id: 'f2', match: { protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/*' }, action: { kind: 'http-status', status: 503, retryAfter: 2 }, when: { probability: 0.5, seed: 7, durationMs: 60_000 } }))
      .toBe('f2: redfish GET /redfish/v1/Systems/* → http-status 503 Retry-After 2 (probability 0.5 seed 7, for 60000 ms)');
    expect(describeRule({ id: 'f3', match: { protocol: 'power', resetType: 'on' }, action: { kind: 'power-stuck' }, when: {} })).toBe('f3: power ResetType on → power-stuck');
  });
});
