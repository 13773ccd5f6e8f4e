/**
 * parseJsonText skips its scan for duplicate keys when the text names no more keys than the parsed
 * value holds (functions/middleware/request-body.ts): these pin that the shortcut's key count
 * never misses a duplicate that strings, escapes, arrays or nesting could hide.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../functions/middleware/request-body';
import { InvalidRequestError } from '../../ledger/errors';

/** The fields a refusal names, or `accepted`. */
function verdict(text: string): string[] | 'accepted' {
  try {
    parseJsonText(text);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    return (error.details ?? []).map((d) => d.field);
  }
}

describe('duplicate keys behind the key count shortcut', () => {
  it('still finds a duplicate after string values holding quotes, colons and backslashes', () => {
    expect(verdict('{"a":"x\\":","b":"\\\\","c":1,"c":2}')).toEqual(['c']);
  });

  it('still finds a duplicate whose colon follows whitespace, in an object inside an array', () => {
    expect(verdict('{"list":[{"k" \n\t: 1, "k"\r\n:2}]}')).toEqual(['list.0.k']);
  });

  it('still finds a duplicate of an empty key and of a key spelled with an escape', () => {
    expect(verdict('{"":1,"":2}')).toEqual(['']);
    expect(verdict('{"ab":1,"a\\u0062":2}')).toEqual(['ab']);
  });

  it('accepts strings that look like keys inside values and arrays of strings', () => {
    expect(verdict('{"note":"\\"a\\": 1, \\"a\\": 2","tags":["x",":","y"],"m":{"a":{"a":1}}}')).toBe(
      'accepted',
    );
  });

  it('counts a __proto__ key as a key, so a duplicate of it is found', () => {
    expect(verdict('{"__proto__":1,"__proto__":2}')).toEqual(['__proto__']);
  });
});
