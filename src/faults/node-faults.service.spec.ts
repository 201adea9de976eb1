import { BadRequestException } from '@nestjs/common';
import { parseRulesBody, ruleStatus } from './node-faults.service';
import type { AgentFaultRule } from './fault-report';

const busy = { match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: '0xC0' }, when: { maxTimes: 2 } };

describe('parseRulesBody', () => {
  it('takes one rule or a list, normalized by the agent parser', () => {
    expect(parseRulesBody(busy)).toEqual([{ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } }]);
    expect(parseRulesBody({ rules: [busy, { match: { protocol: 'sol' }, action: { kind: 'drop' } }] })).toHaveLength(2);
  });

  it('answers 400 naming the field and the rule, with the rule\'s place in a list', () => {
    expect(() => parseRulesBody({ ...busy, match: { protocol: 'ipmi', netFn: 99 } })).toThrow(new BadRequestException('match.netFn must be an integer from 0 to 63'));
    expect(() => parseRulesBody({ rules: [busy, { match: { protocol: 'redfish' }, action: { kind: 'drop' } }] }))
      .toThrow(new BadRequestException('rules[1].action.kind must be one of delay, http-status, stop-answering, bmc-reboot, session-expiry for protocol redfish'));
    expect(() => parseRulesBody({ rules: [] })).toThrow(new BadRequestException('rules must be an array of 1 to 64 rules'));
    expect(() => parseRulesBody({ rules: [busy], extra: 1 })).toThrow(/extra is not a known field next to rules/);
    expect(() => parseRulesBody([busy])).toThrow(new BadRequestException('rule must be an object'));
    expect(() => parseRulesBody(undefined)).toThrow(new BadRequestException('rule must be an object'));
  });
});

describe('ruleStatus', () => {
  const rule = (over: Partial<AgentFaultRule>): AgentFaultRule => ({ id: 'f1', match: { protocol: 'sol' }, action: { kind: 'drop' }, when: {}, addedAt: '2026-12-07T19:00:00.000Z', matches: 0, applied: 0, ...over });
  it('is exhausted after maxTimes, expired after durationMs, else active', () => {
    const at = Date.parse('2026-12-07T19:00:10.000Z');
    expect(ruleStatus(rule({ when: { maxTimes: 2 }, applied: 2 }), at)).toBe('exhausted');
    expect(ruleStatus(rule({ when: { durationMs: 10_000 } }), at)).toBe('expired');
    expect(ruleStatus(rule({ when: { durationMs: 10_001, maxTimes: 3 }, applied: 2 }), at)).toBe('active');
  });
});
