import { describe, expect, test } from 'vitest';
import { MAX_JSON_DEPTH, arrayItems, compactJson, nestedDeeperThan, objectMembers, valueStart } from '../../services/protocol/raw-json.js';

const slice = (text: string, [start, end]: readonly [number, number]) => text.slice(start, end);

describe('raw JSON spans', () => {
  test('give each member of an object exactly as written, numbers digit for digit', () => {
    const text = ' {"channel" : "a", "data":{"n":12345678901234567890,"s":"}\\"]"} , "idempotencyKey":null}';
    const members = objectMembers(text, valueStart(text));
    expect([...members.keys()]).toEqual(['channel', 'data', 'idempotencyKey']);
    expect(slice(text, members.get('data')!)).toBe('{"n":12345678901234567890,"s":"}\\"]"}');
    expect(slice(text, members.get('channel')!)).toBe('"a"');
    expect(slice(text, members.get('idempotencyKey')!)).toBe('null');
  });

  test('give each item of an array, whatever it holds', () => {
    const text = '[1.50, "x,]", [[]], {"a":[1,{"b":2}]}, true, -0e5]';
    expect(arrayItems(text, 0).map((s) => slice(text, s))).toEqual(['1.50', '"x,]"', '[[]]', '{"a":[1,{"b":2}]}', 'true', '-0e5']);
    expect(arrayItems('[ ]', 0)).toEqual([]);
  });

  test('end a string at the first quote preceded by an even number of backslashes', () => {
    // Runs of backslashes before a quote: "\\" ends the string, "\\\"" escapes the quote.
    const text = '{"a":"x\\\\","b":"y\\\\\\"z","c\\\\":"\\\\\\\\","d":"","e":1}';
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const members = objectMembers(text, 0);
    expect([...members.keys()]).toEqual(Object.keys(parsed));
    for (const [key, span] of members) expect(JSON.parse(slice(text, span))).toEqual(parsed[key]);
  });

  test('find keys written with escapes, and keep the last of a repeated key as JSON.parse does', () => {
    const text = '{"d\\u0061ta":1,"data":2}';
    expect(slice(text, objectMembers(text, 0).get('data')!)).toBe('2');
  });

  test('skip JSON nested 30,000 deep without overflowing the stack', () => {
    const deep = '['.repeat(30_000) + ']'.repeat(30_000);
    const text = `{"data":${deep},"after":7}`;
    expect(slice(text, objectMembers(text, 0).get('after')!)).toBe('7');
  });
});

describe('compactJson', () => {
  test('drops line breaks and the whitespace around them but keeps numbers and strings byte for byte', () => {
    expect(compactJson('{\n  "n": 12345678901234567890,\n  "s": "a  b\\n"\n}')).toBe('{"n":12345678901234567890,"s":"a  b\\n"}');
    expect(compactJson('[1.50]')).toBe('[1.50]');
  });
});

describe('nestedDeeperThan', () => {
  test('counts objects and arrays, not brackets inside strings', () => {
    expect(nestedDeeperThan('[[[1]]]', 3)).toBe(false);
    expect(nestedDeeperThan('[[[{"a":1}]]]', 3)).toBe(true);
    expect(nestedDeeperThan('["[[[[[[", {"b":"{{{{"}]', 2)).toBe(false);
    expect(nestedDeeperThan(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
    expect(nestedDeeperThan(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toBe(true);
  });
});
