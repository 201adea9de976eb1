import { jsonBodyProblem, MAX_JSON_DEPTH } from './json-body-shape';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

describe('jsonBodyProblem', () => {
  it('accepts the API\'s own bodies and scalars', () => {
    expect(jsonBodyProblem({ name: 'n1', networks: ['a', 'b'], links: [{ endpoints: ['a:eth1', 'b:eth1'] }] })).toBeNull();
    expect(jsonBodyProblem({})).toBeNull();
    expect(jsonBodyProblem('text')).toBeNull();
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH))).toBeNull();
  });

  it('refuses a body nested deeper than the limit, 3,000 levels included, without recursion', () => {
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH + 1))).toBe(`body must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    expect(jsonBodyProblem(JSON.parse(`${'['.repeat(3000)}${']'.repeat(3000)}`))).toMatch(/must not nest deeper/);
    expect(jsonBodyProblem(nested(200_000))).toMatch(/must not nest deeper/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at any depth', (key) => {
    expect(jsonBodyProblem(JSON.parse(`{"${key}":{"polluted":true}}`))).toBe(`body must not contain the key "${key}"`);
    expect(jsonBodyProblem(JSON.parse(`{"name":"n1","links":[{"${key}":1}]}`))).toBe(`body must not contain the key "${key}"`);
  });
});
