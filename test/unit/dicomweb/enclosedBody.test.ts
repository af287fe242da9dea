/**
 * enclosedBody (main/dicomweb/enclosedBody.ts): a body written into the place
 * it lends comes back with head and tail around it, in the same memory; any
 * other body is copied between them. Either way the same bytes.
 */
import { describe, expect, test } from 'vitest';
import { enclosedBody } from '../../../main/dicomweb/enclosedBody.js';

describe('enclosedBody', () => {
  for (const headLength of [4, 5, 6, 7]) {
    test(`a body written in its place (head of ${headLength} bytes) is answered in place, the body 4-byte aligned`, () => {
      const head = Buffer.from('H'.repeat(headLength - 1) + ':');
      const tail = Buffer.from('\r\n--end--\r\n');
      const answer = enclosedBody(head, tail);
      const place = answer.allocate(10);
      expect(place.byteOffset % 4).toBe(0);
      place.write('0123456789');
      const whole = answer.wrap(place);
      expect(whole.buffer).toBe(place.buffer);
      expect(whole.toString()).toBe(`${head.toString()}0123456789${tail.toString()}`);
    });
  }

  test('another body (or part of the place) is copied between head and tail', () => {
    const answer = enclosedBody(Buffer.from('head|'), Buffer.from('|tail'));
    const place = answer.allocate(4);
    place.write('abcd');
    const part = answer.wrap(place.subarray(0, 2));
    expect(part.toString()).toBe('head|ab|tail');
    expect(part.buffer).not.toBe(place.buffer);
    expect(answer.wrap(Buffer.from('xyz')).toString()).toBe('head|xyz|tail');
    expect(enclosedBody(Buffer.from('h'), Buffer.from('t')).wrap(Buffer.from('never allocated')).toString()).toBe('hnever allocatedt');
  });
});
