import { describe, expect, test } from 'vitest';
import { parseRetrieveRequest } from '../../../main/remote/retrieveRequest.js';

describe('the body of POST {Root}servers/{name}/retrieve', () => {
  test("the seed's body: study, series and instance resources, synchronous by default as in Orthanc", () => {
    const asked = parseRetrieveRequest({
      Resources: [
        { Study: '1.3.51.0.1.1.192.168.29.133.1688840.1688819' },
        { Study: '1.3.51.0.1.1.192.168.29.133.1681753.1681732', Series: '1.3.12.2.1107.5.2.33.37097.2012041613040617636372171.0.0.0' },
        { Study: '1.3.51.0.1.1.192.168.29.133.1681753.1681732', Series: '1.3.12.2.1107.5.2.33.37097.2012041612474981424569674.0.0.0', Instance: '1.3.12.2.1107.5.2.33.37097.2012041612485540185869716' },
      ],
    });
    expect(asked.synchronous).toBe(true);
    expect(asked.resources).toHaveLength(3);
    expect(asked.resources[2]).toEqual({
      Study: '1.3.51.0.1.1.192.168.29.133.1681753.1681732',
      Series: '1.3.12.2.1107.5.2.33.37097.2012041612474981424569674.0.0.0',
      Instance: '1.3.12.2.1107.5.2.33.37097.2012041612485540185869716',
    });
    expect(asked.headers).toEqual({});
    expect(asked.query).toEqual({});
  });

  test('Synchronous false and Asynchronous true both ask for a job answered at once', () => {
    expect(parseRetrieveRequest({ Resources: [{ Study: '1.2' }], Synchronous: false }).synchronous).toBe(false);
    expect(parseRetrieveRequest({ Resources: [{ Study: '1.2' }], Asynchronous: true }).synchronous).toBe(false);
    expect(parseRetrieveRequest({ Resources: [{ Study: '1.2' }], Asynchronous: false }).synchronous).toBe(true);
  });

  test('HttpHeaders and Arguments, or the seed\'s "HttpArguments", are taken as strings', () => {
    const a = parseRetrieveRequest({ Resources: [{ Study: '1.2' }], HttpHeaders: { Cookie: 's=1' }, Arguments: { limit: 5 } });
    expect(a.headers).toEqual({ Cookie: 's=1' });
    expect(a.query).toEqual({ limit: '5' });
    expect(parseRetrieveRequest({ Resources: [{ Study: '1.2' }], HttpArguments: { x: 'y' } }).query).toEqual({ x: 'y' });
  });

  test('malformed bodies answer a sentence naming what is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /the body must be a JSON object/],
      [{}, /"Resources" must be a non-empty list/],
      [{ Resources: [] }, /"Resources" must be a non-empty list/],
      [{ Resources: ['1.2'] }, /Resources\[0\] must be an object/],
      [{ Resources: [{ Series: '1.2' }] }, /Resources\[0\]\.Study must be a DICOM UID/],
      [{ Resources: [{ Study: '1.2/../x' }] }, /Resources\[0\]\.Study must be a DICOM UID/],
      [{ Resources: [{ Study: '1.2', Instance: '1.3' }] }, /names an Instance without its Series/],
      [{ Resources: [{ Study: '1.2' }], HttpHeaders: 'x' }, /"HttpHeaders" must be an object of strings/],
      [{ Resources: [{ Study: '1.2' }], Arguments: { a: {} } }, /"Arguments\.a" must be a string/],
      [{ Resources: [{ Study: '1.2' }], Arguments: {}, HttpArguments: {} }, /not both/],
      [{ Resources: [{ Study: '1.2' }], Synchronous: 'yes' }, /"Synchronous" must be true or false/],
    ];
    for (const [body, message] of cases) {
      expect(() => parseRetrieveRequest(body), JSON.stringify(body)).toThrow(message);
    }
  });
});
