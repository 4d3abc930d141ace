import { describe, expect, it } from 'vitest';
import { dumps, floatRepr, loads, PyFloat, PyJsonDecodeError, truthy } from '../../harness/openwebui/python-json.ts';

describe('json.dumps semantics', () => {
  it.each([
    ['{"a":[1,2]}', '{"a": [1, 2]}'],
    ['{"2": 1, "1": 2, "b": 3}', '{"2": 1, "1": 2, "b": 3}'],
    ['"h\\u00e9llo \\u2713 \\ud834\\udd1e"', '"h\\u00e9llo \\u2713 \\ud834\\udd1e"'],
    ['"héllo ✓ 𝄞"', '"h\\u00e9llo \\u2713 \\ud834\\udd1e"'],
    ['1.0', '1.0'],
    ['1e16', '1e+16'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['-0.0', '-0.0'],
    ['-0', '0'],
    ['12345678901234567890', '12345678901234567890'],
    ['{"a": 1, "a": 2}', '{"a": 2}'],
    ['"\\u0000\\u007f\\/"', '"\\u0000\\u007f/"'],
    ['"tab\\there\\nnl"', '"tab\\there\\nnl"'],
    ['NaN', 'NaN'],
    ['[ ]', '[]'],
    ['{}', '{}'],
  ])('loads(%s) then dumps gives %s', (text, expected) => {
    expect(dumps(loads(text))).toBe(expected);
  });

  it.each(['', '01', '{"a" 1}', '[1,]', '"\u0001"', '"\\x"', 'nul', '1 2', '\ufeff{}'])('rejects %j', (text) => {
    expect(() => loads(text)).toThrow(PyJsonDecodeError);
  });

  it.each([
    [0.1, '0.1'],
    [1e22, '1e+22'],
    [123456789012345680, '1.2345678901234568e+17'],
    [1234567890123456, '1234567890123456.0'],
    [1.5e-7, '1.5e-07'],
    [100, '100.0'],
  ])('repr(%s) is %s', (x, s) => {
    expect(floatRepr(x)).toBe(s);
  });

  it('keeps Python truthiness', () => {
    for (const v of ['', 0, false, null, [], new Map(), new PyFloat(0)]) expect(truthy(v as never)).toBe(false);
    for (const v of ['0', 7, true, [0], new PyFloat(NaN)]) expect(truthy(v as never)).toBe(true);
  });
});
