import { describe, expect, it } from 'vitest';
import { encodeQuery, encodeQueryComponent, relativeRemotePath, remoteUrl } from '../../../main/remote/remoteQuery.js';

describe('query strings for remote DICOMweb servers', () => {
  it('sends ^ * , - . raw, as Orthanc 1.10 (which does not percent-decode QIDO values) needs', () => {
    expect(encodeQueryComponent('DOE^J*')).toBe('DOE^J*');
    expect(encodeQueryComponent('1.2.3,1.2.4')).toBe('1.2.3,1.2.4');
    expect(encodeQueryComponent('20040101-20041231')).toBe('20040101-20041231');
    expect(encodeQueryComponent('DO?')).toBe('DO?');
  });

  it('percent-encodes space, the query delimiters and non-ASCII as UTF-8', () => {
    expect(encodeQueryComponent('VAN DER*')).toBe('VAN%20DER*');
    expect(encodeQueryComponent('a&b=c+d#e%f')).toBe('a%26b%3Dc%2Bd%23e%25f');
    expect(encodeQueryComponent("O'BRIEN\"")).toBe('O%27BRIEN%22');
    expect(encodeQueryComponent('MÜLLER^JÖRG')).toBe('M%C3%9CLLER^J%C3%96RG');
    expect(encodeQueryComponent('山田^太郎')).toBe('%E5%B1%B1%E7%94%B0^%E5%A4%AA%E9%83%8E');
  });

  it('builds key=value pairs in key order, a bare key for an empty value', () => {
    expect(encodeQuery({ PatientName: 'DOE^*', '00100020': 'ID 1', expand: '' })).toBe('00100020=ID%201&PatientName=DOE^*&expand');
    expect(encodeQuery(undefined)).toBe('');
  });

  it('joins the server Url and the path without doubling slashes, the query encoded', () => {
    expect(remoteUrl('http://h/dicom-web/', '/studies', { PatientName: 'A B' })).toBe('http://h/dicom-web/studies?PatientName=A%20B');
    expect(remoteUrl('http://h/dicom-web', 'studies/1.2/series', {})).toBe('http://h/dicom-web/studies/1.2/series');
  });

  it('a Uri is a path: no query, no scheme, leading and repeated slashes dropped', () => {
    expect(relativeRemotePath('/studies//1.2.3/series', 'get')).toBe('studies/1.2.3/series');
    expect(relativeRemotePath('studies/a b', 'get')).toBe('studies/a%20b');
    expect(() => relativeRemotePath('/studies?PatientName=x', "get from 'pacs'")).toThrow(/get from 'pacs': "Uri" must not contain '\?': give the query in "Arguments"/);
    expect(() => relativeRemotePath('http://evil/studies', 'get')).toThrow(/relative to the server's Url/);
    expect(() => relativeRemotePath('//evil/studies', 'get')).toThrow(/relative to the server's Url/);
  });
});
