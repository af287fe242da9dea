/**
 * HTTP helpers for the WADO-RS / STOW-RS integration tests: multipart request
 * bodies, a raw HTTP writer that sends a body in small, delayed chunks (so
 * that boundaries fall across TCP packets), multipart answers split into
 * parts, and pydicom as the independent oracle for frames and values.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { parseMediaType } from '../../main/dicomweb/mediaType.js';
import { readMultipart, type MultipartPart } from '../../main/dicomweb/multipart.js';

export interface RawPart {
  body: Buffer;
  /** Part Content-Type; default application/dicom; null for no header at all. */
  contentType?: string | null;
}

/** A multipart/related body: `--b CRLF headers CRLF CRLF body` per part, then the close delimiter. */
export function multipartBody(parts: Array<Buffer | RawPart>, boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const part = Buffer.isBuffer(p) ? { body: p } : p;
    const type = part.contentType === undefined ? 'application/dicom' : part.contentType;
    chunks.push(Buffer.from(`--${boundary}\r\n${type === null ? '' : `Content-Type: ${type}\r\n`}\r\n`, 'latin1'), part.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

export interface StowAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The DICOM JSON answer (undefined when not JSON). */
  json: Record<string, { vr: string; Value?: unknown[] }> | undefined;
}

/** POST {dicomWebUrl}/studies[/{study}] with a multipart body. */
export async function stow(
  dicomWebUrl: string,
  parts: Array<Buffer | RawPart>,
  options: { study?: string; boundary?: string; contentType?: string; accept?: string; body?: Buffer } = {},
): Promise<StowAnswer> {
  const boundary = options.boundary ?? 'stow-test-boundary-7d3a';
  const headers: Record<string, string> = {
    'Content-Type': options.contentType ?? `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
  if (options.accept) headers.Accept = options.accept;
  const response = await fetch(`${dicomWebUrl}/studies${options.study ? `/${options.study}` : ''}`, {
    method: 'POST',
    headers,
    body: options.body ?? multipartBody(parts, boundary),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, headers: response.headers, text, json: isJson && text ? JSON.parse(text) : undefined };
}

/** Sends `body` in pieces of `chunkSize` bytes with a pause after each (chunked transfer encoding). */
export function slowPost(
  url: string,
  contentType: string,
  body: Buffer,
  chunkSize: number,
  pauseMs = 2,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('socket', (socket) => socket.setNoDelay(true));
    (async () => {
      for (let i = 0; i < body.length; i += chunkSize) {
        req.write(body.subarray(i, i + chunkSize));
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      req.end();
    })().catch(reject);
  });
}

export interface MultipartAnswer {
  status: number;
  contentType: string;
  /** The `type` parameter of the answer's Content-Type. */
  type: string | undefined;
  parts: MultipartPart[];
}

/** GET a multipart answer and split it into parts (error answers: parts = []). */
export async function getMultipart(url: string, accept?: string): Promise<MultipartAnswer & { text?: string }> {
  const response = await fetch(url, { headers: accept ? { Accept: accept } : {} });
  const contentType = response.headers.get('content-type') ?? '';
  const { mediaType, params } = parseMediaType(contentType);
  if (mediaType !== 'multipart/related' || !response.body) {
    return { status: response.status, contentType, type: undefined, parts: [], text: await response.text() };
  }
  const parts: MultipartPart[] = [];
  for await (const part of readMultipart(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), params.boundary!)) {
    parts.push(part);
  }
  return { status: response.status, contentType, type: params.type, parts };
}

/** pydicom's frames of each file: hex of each frame's bytes (little endian for native data, fragments for encapsulated). */
export function pydicomFrames(paths: string[]): Record<string, string[]> {
  const script = `
import sys, json, warnings
warnings.filterwarnings('ignore')
import numpy as np, pydicom
from pydicom.encaps import generate_pixel_data_frame
from pydicom.pixel_data_handlers.numpy_handler import pack_bits
out = {}
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    n = int(ds.get('NumberOfFrames') or 1)
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        frames = list(generate_pixel_data_frame(ds.PixelData, n))
    elif ds.PhotometricInterpretation == 'YBR_FULL_422':
        size = ds.Rows * ds.Columns * 2 * ds.BitsAllocated // 8
        frames = [ds.PixelData[i * size:(i + 1) * size] for i in range(n)]
    else:
        arr = ds.pixel_array
        if n == 1: arr = arr[None]
        frames = []
        for f in arr:
            if ds.BitsAllocated == 1:
                frames.append(bytes(pack_bits(f)))
                continue
            if ds.SamplesPerPixel > 1 and ds.get('PlanarConfiguration', 0) == 1: f = f.transpose(2, 0, 1)
            frames.append(np.ascontiguousarray(f).astype(f.dtype.newbyteorder('<')).tobytes())
    out[path] = [bytes(f).hex() for f in frames]
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...paths], { maxBuffer: 256 * 1024 * 1024 }).toString());
}

/** UIDs as pydicom reads them (null when it cannot read the file or the UID is absent). */
export interface PydicomUids {
  sopClassUID: string | null;
  sopInstanceUID: string | null;
  studyInstanceUID: string | null;
  seriesInstanceUID: string | null;
  transferSyntaxUID: string | null;
}

export function pydicomUids(paths: string[]): Record<string, PydicomUids | null> {
  const script = `
import sys, json, warnings
warnings.filterwarnings('ignore')
import pydicom
out = {}
for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        g = lambda k: (str(ds.get(k)) if ds.get(k) else None)
        ts = ds.file_meta.get('TransferSyntaxUID') if hasattr(ds, 'file_meta') else None
        out[path] = {'sopClassUID': g('SOPClassUID'), 'sopInstanceUID': g('SOPInstanceUID'),
                     'studyInstanceUID': g('StudyInstanceUID'), 'seriesInstanceUID': g('SeriesInstanceUID'),
                     'transferSyntaxUID': str(ts) if ts else None}
    except Exception:
        out[path] = None
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...paths]).toString());
}

/** pydicom's raw value bytes of a top-level element (hex), as stored in the file (for little endian files). */
export function pydicomValue(path: string, tag: string): string {
  const script = `
import sys, warnings
warnings.filterwarnings('ignore')
import pydicom
ds = pydicom.dcmread(sys.argv[1])
el = ds[int(sys.argv[2], 16)]
v = el.value
print((v if isinstance(v, bytes) else b'').hex())
`;
  return execFileSync('/usr/bin/python3', ['-c', script, path, tag], { maxBuffer: 64 * 1024 * 1024 }).toString().trim();
}

/**
 * The parts of a multipart answer read until it ends or breaks: the bodies
 * received whole, and the error when the body stops before its closing
 * delimiter (how our server ends an answer whose later part failed).
 */
export async function readPartsUntilFailure(response: Response): Promise<{ parts: Buffer[]; failure?: Error }> {
  const boundary = parseMediaType(response.headers.get('content-type')!).params.boundary!;
  const parts: Buffer[] = [];
  try {
    for await (const part of readMultipart(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), boundary)) parts.push(part.body);
  } catch (err) {
    return { parts, failure: err as Error };
  }
  return { parts };
}
