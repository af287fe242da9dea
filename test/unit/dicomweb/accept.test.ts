/**
 * Accept negotiation (PS3.18 8.7.3): media ranges, q-values, multipart type
 * and transfer-syntax parameters, and the 406 message.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { negotiate, parseAccept, type Offer } from '../../../main/dicomweb/accept.js';

const JPEG = '1.2.840.10008.1.2.4.50';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

const dicom = (stored: string[]): Offer => ({
  mediaType: 'multipart/related',
  partType: 'application/dicom',
  transferSyntaxes: stored,
  matchesWithoutTransferSyntax: true,
});
const json: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const xml: Offer = { mediaType: 'multipart/related', partType: 'application/dicom+xml' };
const compressedOctets: Offer = {
  mediaType: 'multipart/related',
  partType: 'application/octet-stream',
  transferSyntaxes: [JPEG],
  matchesWithoutTransferSyntax: false,
};
const jpegImage: Offer = {
  mediaType: 'multipart/related',
  partType: 'image/jpeg',
  aliases: ['image/dicom+jpeg'],
  transferSyntaxes: [JPEG],
  matchesWithoutTransferSyntax: true,
};

function notAcceptable(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('not-acceptable');
    return err as AppError;
  }
  throw new Error('expected a not-acceptable error');
}

describe('parseAccept', () => {
  it('reads ranges, parameters and q-values, with commas inside quotes kept', () => {
    const ranges = parseAccept('multipart/related; type="application/dicom"; transfer-syntax=*, application/dicom+json;q=0.5, text/x;a="1,2"');
    expect(ranges.map((r) => [r.mediaType, r.params, r.q])).toEqual([
      ['multipart/related', { type: 'application/dicom', 'transfer-syntax': '*' }, 1],
      ['application/dicom+json', {}, 0.5],
      ['text/x', { a: '1,2' }, 1],
    ]);
  });

  it('takes an absent or empty header as */*', () => {
    expect(parseAccept(undefined).map((r) => r.mediaType)).toEqual(['*/*']);
    expect(parseAccept('  ').map((r) => r.mediaType)).toEqual(['*/*']);
  });
});

describe('negotiate', () => {
  it('chooses the first offer for */* and for no Accept at all', () => {
    expect(negotiate(undefined, [json, xml], 'metadata').offer).toBe(json);
    expect(negotiate('*/*', [json, xml], 'metadata').offer).toBe(json);
  });

  it('chooses the offer with the higher q, whatever the order of the header', () => {
    expect(negotiate('application/dicom+json;q=0.2, multipart/related; type="application/dicom+xml"', [json, xml], 'm').offer).toBe(xml);
    expect(negotiate('multipart/related; type=application/dicom+xml; q=0.1, application/json', [json, xml], 'm').offer).toBe(json);
  });

  it('matches multipart/related by its type parameter, quoted or not, and without one', () => {
    const offers = [dicom([EXPLICIT_LE])];
    expect(negotiate('multipart/related; type="application/dicom"', offers, 'r').offer).toBe(offers[0]);
    expect(negotiate('multipart/related; type=application/dicom', offers, 'r').offer).toBe(offers[0]);
    expect(negotiate('multipart/related', offers, 'r').offer).toBe(offers[0]);
    notAcceptable(() => negotiate('multipart/related; type="application/octet-stream"', offers, 'r'));
  });

  it('says when the part type itself was asked (single part)', () => {
    const result = negotiate('application/dicom', [dicom([EXPLICIT_LE])], 'r');
    expect(result.singlePart).toBe(true);
    expect(negotiate('multipart/related; type=application/dicom', [dicom([EXPLICIT_LE])], 'r').singlePart).toBe(false);
  });

  it('accepts the stored syntax for transfer-syntax=*, the stored syntax itself, or no parameter', () => {
    const offers = [dicom([JPEG])];
    for (const accept of [
      'multipart/related; type="application/dicom"; transfer-syntax=*',
      `multipart/related; type="application/dicom"; transfer-syntax=${JPEG}`,
      'multipart/related; type="application/dicom"',
    ]) {
      expect(negotiate(accept, offers, 'r').offer, accept).toBe(offers[0]);
    }
  });

  it('refuses another transfer syntax, naming what was asked and what is stored', () => {
    const err = notAcceptable(() =>
      negotiate(`multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`, [dicom([JPEG, EXPLICIT_LE])], 'retrieve study 1.2', 'transcoding later'),
    );
    expect(err.message).toContain('retrieve study 1.2');
    expect(err.message).toContain(`transfer-syntax=${EXPLICIT_LE}`);
    expect(err.message).toContain(`transfer-syntax=${JPEG}|${EXPLICIT_LE}`);
    expect(err.message).toContain('transcoding later');
  });

  it('does not give compressed frames to a client asking application/octet-stream without a transfer syntax (uncompressed by default)', () => {
    const offers = [compressedOctets, jpegImage];
    notAcceptable(() => negotiate('multipart/related; type="application/octet-stream"', offers, 'frames'));
    expect(negotiate('multipart/related; type="application/octet-stream"; transfer-syntax=*', offers, 'frames').offer).toBe(compressedOctets);
    expect(negotiate('*/*', offers, 'frames').offer).toBe(compressedOctets);
    expect(negotiate('multipart/related', offers, 'frames').offer).toBe(compressedOctets);
  });

  it('gives compressed frames as their image type when the client asks for it, by current or older name', () => {
    const offers = [compressedOctets, jpegImage];
    expect(negotiate('multipart/related; type="image/jpeg"', offers, 'frames').offer).toBe(jpegImage);
    expect(negotiate(`multipart/related; type="image/jpeg"; transfer-syntax=${JPEG}`, offers, 'frames').offer).toBe(jpegImage);
    expect(negotiate('multipart/related; type="image/*"', offers, 'frames').offer).toBe(jpegImage);
    expect(negotiate('image/dicom+jpeg', offers, 'frames').singlePart).toBe(true);
    notAcceptable(() => negotiate('multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.70', offers, 'frames'));
  });

  it('lets a range with q=0 exclude what it matches', () => {
    notAcceptable(() => negotiate('application/dicom+json;q=0, application/json', [json], 'm'));
    expect(negotiate('*/*, application/dicom+json;q=0', [json, xml], 'm').offer).toBe(xml);
  });

  it('accepts application/json as DICOM JSON and refuses unrelated types', () => {
    expect(negotiate('application/json', [json, xml], 'm').offer).toBe(json);
    const err = notAcceptable(() => negotiate('text/html, image/png', [json, xml], 'metadata of study 1.2'));
    expect(err.message).toContain('"text/html, image/png"');
    expect(err.message).toContain('application/dicom+json, multipart/related; type="application/dicom+xml"');
  });
});
