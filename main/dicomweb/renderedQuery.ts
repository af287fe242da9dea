/**
 * The rendering query parameters, validated into RenderParams:
 *  - WADO-RS Rendered / Thumbnail (PS3.18 8.3.5.1): `window=center,width[,function]`
 *    (function linear | linear-exact | sigmoid, PS3.3 C.11.2.1.2-3), `viewport=vw,vh[,sx,sy,sw,sh]`
 *    (either of vw, vh may be empty: the other one and the aspect ratio decide),
 *    `quality=1..100`; the media type comes from Accept (accept.ts).
 *  - WADO-URI (PS3.18 9.1.2.1): `rows`, `columns` (the viewport), `windowCenter` and
 *    `windowWidth` (both or neither), `imageQuality`, `frameNumber`.
 */
import { AppError, badRequest } from '../errors.js';
import type { RenderParams, RenderedMediaType, Viewport, VoiWindow } from '../pixels/render.js';
import { voiFunctionOf } from '../pixels/renderingAttributes.js';

type Query = Record<string, string | string[] | undefined>;

/** Largest viewport side answered (a bigger one would only cost memory). */
export const MAX_VIEWPORT = 8192;

function single(query: Query, name: string, who: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(`${who} parameter '${name}' must be given once, got ${value.length} values`);
  return value;
}

function decimal(text: string, what: string): number {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw badRequest(`${what} must be a decimal number, got ${JSON.stringify(text.slice(0, 40))}`);
  return Number(t);
}

function integer(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^[+-]?\d{1,9}$/.test(t) || Number(t) < min || Number(t) > max) {
    throw badRequest(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return Number(t);
}

/** A window whose width the function can take (LINEAR: >= 1; LINEAR_EXACT, SIGMOID: > 0). */
export function checkedWindow(center: number, width: number, fnText: string | undefined, what: string): VoiWindow {
  const fn = voiFunctionOf(fnText);
  if (!fn) throw badRequest(`${what}: function must be linear, linear-exact or sigmoid, got ${JSON.stringify((fnText ?? '').slice(0, 40))}`);
  if (fn === 'linear' ? !(width >= 1) : !(width > 0)) {
    throw badRequest(`${what}: width ${width} is not allowed for ${fn} (${fn === 'linear' ? 'at least 1' : 'greater than 0'}, PS3.3 C.11.2.1.2)`);
  }
  return { center, width, function: fn };
}

export function parseWindow(text: string): VoiWindow {
  const what = `parameter 'window' (${JSON.stringify(text.slice(0, 60))})`;
  const parts = text.split(',');
  if (parts.length < 2 || parts.length > 3) throw badRequest(`${what} must be center,width[,function]`);
  return checkedWindow(decimal(parts[0]!, `${what} center`), decimal(parts[1]!, `${what} width`), parts[2], what);
}

export function parseViewport(text: string): Viewport {
  const what = `parameter 'viewport' (${JSON.stringify(text.slice(0, 60))})`;
  const parts = text.split(',');
  if (parts.length !== 2 && parts.length !== 6) throw badRequest(`${what} must be vw,vh or vw,vh,sx,sy,sw,sh`);
  const side = (t: string, name: string) => (t.trim() === '' ? undefined : integer(t, `${what} ${name}`, 1, MAX_VIEWPORT));
  const viewport: Viewport = { width: side(parts[0]!, 'vw'), height: side(parts[1]!, 'vh') };
  if (viewport.width === undefined && viewport.height === undefined) throw badRequest(`${what}: give vw, vh or both`);
  if (parts.length === 6) {
    const [x, y, w, h] = parts.slice(2).map((t, i) => integer(t, `${what} ${['sx', 'sy', 'sw', 'sh'][i]}`, i < 2 ? 0 : -1e9, 1e9));
    if (w === 0 || h === 0) throw badRequest(`${what}: sw and sh must not be 0`);
    viewport.region = { x: x!, y: y!, width: w!, height: h! };
  }
  return viewport;
}

/** WADO-RS rendered/thumbnail parameters; `defaults` fill what the query leaves out (thumbnails: a small viewport). */
export function parseRenderedQuery(query: Query, mediaType: RenderedMediaType, defaults: Partial<RenderParams> = {}): RenderParams {
  const who = 'rendered';
  const params: RenderParams = { ...defaults, mediaType };
  const window = single(query, 'window', who);
  if (window !== undefined) params.window = parseWindow(window);
  const viewport = single(query, 'viewport', who);
  if (viewport !== undefined) params.viewport = parseViewport(viewport);
  const quality = single(query, 'quality', who);
  if (quality !== undefined) params.quality = integer(quality, "parameter 'quality'", 1, 100);
  return params;
}

/** WADO-URI image parameters (PS3.18 9.1.2.1); the frame is 1 unless frameNumber is given. */
export function parseWadoUriImageQuery(query: Query, mediaType: RenderedMediaType): { params: RenderParams; frame: number } {
  const who = 'WADO-URI';
  const get = (name: string) => single(query, name, who);
  const params: RenderParams = { mediaType };
  const rows = get('rows');
  const columns = get('columns');
  if (rows !== undefined || columns !== undefined) {
    params.viewport = {
      height: rows === undefined ? undefined : integer(rows, "WADO-URI parameter 'rows'", 1, MAX_VIEWPORT),
      width: columns === undefined ? undefined : integer(columns, "WADO-URI parameter 'columns'", 1, MAX_VIEWPORT),
    };
  }
  const center = get('windowCenter');
  const width = get('windowWidth');
  if ((center === undefined) !== (width === undefined)) {
    throw badRequest("WADO-URI parameters 'windowCenter' and 'windowWidth' must be given together (PS3.18 9.1.2.1)");
  }
  if (center !== undefined && width !== undefined) {
    params.window = checkedWindow(decimal(center, "WADO-URI parameter 'windowCenter'"), decimal(width, "WADO-URI parameter 'windowWidth'"), undefined, 'WADO-URI window');
  }
  const quality = get('imageQuality');
  if (quality !== undefined) params.quality = integer(quality, "WADO-URI parameter 'imageQuality'", 1, 100);
  const frameText = get('frameNumber');
  const frame = frameText === undefined ? 1 : integer(frameText, "WADO-URI parameter 'frameNumber'", 1, 999_999_999);
  for (const name of ['region', 'presentationUID', 'presentationSeriesUID']) {
    if (get(name) !== undefined) throw new AppError('not-acceptable', `WADO-URI parameter '${name}' is not supported by this server`);
  }
  return { params, frame };
}
