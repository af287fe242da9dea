/**
 * Accept negotiation for the WADO-RS and STOW-RS answers (PS3.18 8.7.3
 * "Acceptable Media Types", 8.3.3.1 "accept" query parameter): media ranges
 * with q-values, the `type=` parameter of multipart/related and the
 * `transfer-syntax=` parameter (PS3.18 8.7.3.5.2). Each transaction lists what
 * it can produce (offers, in its order of preference); negotiate() returns the
 * best one or throws AppError('not-acceptable') naming what was asked and what
 * can be produced.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { parseMediaType, splitHeaderList } from './mediaType.js';

export interface AcceptRange {
  /** Lower-case `type/subtype`, possibly with wildcards (`*\/*`, `image/*`). */
  mediaType: string;
  /** Parameters other than q, names lower-cased. */
  params: Record<string, string>;
  q: number;
  /** The range as the client wrote it (for messages). */
  text: string;
}

/** What a transaction can answer. */
export interface Offer {
  /** Media type of the whole answer, e.g. `multipart/related` or `application/dicom+json`. */
  mediaType: string;
  /** multipart/related only: the media type of the parts (its `type` parameter). */
  partType?: string;
  /** Other names a client may use for this offer, e.g. `application/json` for DICOM JSON. */
  aliases?: string[];
  /**
   * Transfer syntaxes of the data produced (DICOM and pixel data answers). A range
   * naming `transfer-syntax=X` matches only when every one of them is X
   * (`transfer-syntax=*` matches any). Omitted: the parameter is ignored.
   */
  transferSyntaxes?: string[];
  /**
   * Whether a range naming this media type without a transfer-syntax parameter
   * accepts the data as produced (true unless the default syntax of the media
   * type, e.g. uncompressed for application/octet-stream, is not what we have).
   * Wildcard ranges (`*\/*`, multipart/related without type) always do.
   */
  matchesWithoutTransferSyntax?: boolean;
}

export interface Negotiated<T extends Offer> {
  offer: T;
  range: AcceptRange;
  /** The range named the part type itself (e.g. `application/dicom`), not multipart/related. */
  singlePart: boolean;
}

/** Parses an Accept value; an absent or empty value is `*\/*`. Ranges with q=0 are kept (they exclude). */
export function parseAccept(header: string | string[] | undefined): AcceptRange[] {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return [{ mediaType: '*/*', params: {}, q: 1, text: '*/*' }];
  return splitHeaderList(value).map((text) => {
    const { mediaType, params } = parseMediaType(text);
    let q = 1;
    if ('q' in params) {
      const parsed = Number(params.q);
      q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 1;
      delete params.q;
    }
    // `*` alone (seen in the wild) means `*/*`.
    return { mediaType: mediaType === '*' ? '*/*' : mediaType, params, q, text };
  });
}

/**
 * The Accept value of a request: the `accept` query parameter when present
 * (PS3.18 8.3.3.1, it overrides the header), otherwise the Accept header.
 */
export function requestAccept(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.accept;
  if (typeof fromQuery === 'string' && fromQuery.length > 0) return fromQuery;
  if (Array.isArray(fromQuery) && fromQuery.length > 0) return fromQuery.join(',');
  return request.headers.accept;
}

/** `image/*` matches `image/jpeg`; `*\/*` matches anything. */
function typeMatches(range: string, type: string): boolean {
  if (range === '*/*' || range === type) return true;
  return range.endsWith('/*') && type.startsWith(range.slice(0, -1));
}

function transferSyntaxMatches(range: AcceptRange, offer: Offer, wildcard: boolean): boolean {
  if (!offer.transferSyntaxes) return true;
  const asked = range.params['transfer-syntax'];
  if (asked === undefined) return wildcard || offer.matchesWithoutTransferSyntax !== false;
  if (asked === '*') return true;
  return offer.transferSyntaxes.length > 0 && offer.transferSyntaxes.every((ts) => ts === asked);
}

/** How `range` matches `offer`, or undefined. */
function match(range: AcceptRange, offer: Offer): { singlePart: boolean } | undefined {
  const names = [offer.mediaType, ...(offer.aliases ?? [])];
  if (offer.partType === undefined) {
    if (!names.some((n) => typeMatches(range.mediaType, n))) return undefined;
    const wildcard = range.mediaType.includes('*');
    return transferSyntaxMatches(range, offer, wildcard) ? { singlePart: false } : undefined;
  }
  // A multipart offer: matched by multipart/related (with a compatible type), by
  // wildcards, or by the part type named alone.
  if (typeMatches(range.mediaType, offer.mediaType)) {
    const type = range.params.type?.toLowerCase();
    if (range.mediaType !== '*/*' && type !== undefined && !typeMatches(type, offer.partType)) return undefined;
    const wildcard = type === undefined || type.includes('*');
    return transferSyntaxMatches(range, offer, wildcard) ? { singlePart: false } : undefined;
  }
  if (range.mediaType === offer.partType || offer.aliases?.includes(range.mediaType)) {
    return transferSyntaxMatches(range, offer, false) ? { singlePart: true } : undefined;
  }
  if (range.mediaType.endsWith('/*') && typeMatches(range.mediaType, offer.partType)) {
    return transferSyntaxMatches(range, offer, true) ? { singlePart: true } : undefined;
  }
  return undefined;
}

/** How an offer is written in messages: `multipart/related; type="application/dicom"; transfer-syntax=…`. */
export function describeOffer(offer: Offer): string {
  let text = offer.partType ? `${offer.mediaType}; type="${offer.partType}"` : offer.mediaType;
  if (offer.transferSyntaxes?.length) text += `; transfer-syntax=${[...new Set(offer.transferSyntaxes)].join('|')}`;
  return text;
}

/**
 * The offer to answer with: the highest q among the ranges that match it,
 * ties broken by the order of `offers`. A range with q=0 excludes what it
 * matches. Throws AppError('not-acceptable') when nothing matches;
 * `hint` is appended to that message (e.g. "transcoding is not supported yet").
 */
export function negotiate<T extends Offer>(accept: string | string[] | undefined, offers: T[], what: string, hint?: string): Negotiated<T> {
  const ranges = parseAccept(accept);
  let best: Negotiated<T> | undefined;
  let bestQ = 0;
  for (const offer of offers) {
    let q = -1;
    let chosen: { range: AcceptRange; singlePart: boolean } | undefined;
    let excluded = false;
    for (const range of ranges) {
      const m = match(range, offer);
      if (!m) continue;
      if (range.q === 0) {
        excluded = true;
        break;
      }
      if (range.q > q) {
        q = range.q;
        chosen = { range, singlePart: m.singlePart };
      }
    }
    if (excluded || !chosen) continue;
    if (q > bestQ) {
      bestQ = q;
      best = { offer, ...chosen };
    }
  }
  if (!best) {
    const asked = Array.isArray(accept) ? accept.join(', ') : (accept ?? '*/*');
    throw new AppError(
      'not-acceptable',
      `${what}: none of the accepted media types (${JSON.stringify(asked)}) can be produced; available: ${offers.map(describeOffer).join(', ')}${hint ? ` (${hint})` : ''}`,
    );
  }
  return best;
}
