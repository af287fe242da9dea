/**
 * multipart/related reading and writing (RFC 2046 5.1, PS3.18 8.6/8.7): the
 * streaming reader against hand-written bodies cut into every chunk size, and
 * the writer checked by Python's email parser as an independent reader.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { parseMediaType } from '../../../main/dicomweb/mediaType.js';
import { MultipartWriter, multipartStream, readMultipart, type MultipartPart } from '../../../main/dicomweb/multipart.js';

/** A source that hands out `bytes` in chunks of `size` (the last one shorter). */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(bytes: Buffer, boundary: string, size = bytes.length || 1, options = {}): Promise<MultipartPart[]> {
  const parts: MultipartPart[] = [];
  for await (const part of readMultipart(chunked(bytes, size), boundary, options)) parts.push(part);
  return parts;
}

async function readUntilError(bytes: Buffer, boundary: string, size: number): Promise<{ parts: MultipartPart[]; error: unknown }> {
  const parts: MultipartPart[] = [];
  try {
    for await (const part of readMultipart(chunked(bytes, size), boundary)) parts.push(part);
  } catch (error) {
    return { parts, error };
  }
  return { parts, error: undefined };
}

const B = 'BOUNDARY-1234';
const body = (s: string) => Buffer.from(s, 'latin1');

const twoParts = body(
  'this is a preamble\r\n' +
    `--${B}\r\nContent-Type: application/dicom\r\nX-Extra:  spaced value \r\n\r\n` +
    'first\r\nbody with --BOUNDARY-1234X inside a line and \r\n--BOUNDARY-1234X at a line start' +
    `\r\n--${B}  \t\r\ncontent-type: application/octet-stream\r\n\r\n` +
    'second' +
    `\r\n--${B}--\r\nthis is the epilogue, ignored`,
);

describe('readMultipart', () => {
  it('reads parts with their headers, skipping preamble, epilogue and look-alike delimiters, in any chunking', async () => {
    for (const size of [1, 2, 3, 5, 7, 13, 16, 17, 64, twoParts.length]) {
      const parts = await readAll(twoParts, B, size);
      expect(parts.map((p) => p.body.toString('latin1')), `chunk size ${size}`).toEqual([
        'first\r\nbody with --BOUNDARY-1234X inside a line and \r\n--BOUNDARY-1234X at a line start',
        'second',
      ]);
      expect(parts[0]!.headers).toEqual({ 'content-type': 'application/dicom', 'x-extra': 'spaced value' });
      expect(parts[1]!.headers).toEqual({ 'content-type': 'application/octet-stream' });
    }
  });

  it('tells delimiters from look-alikes however they fall across chunks no shorter than the delimiter (chunks scanned in place)', async () => {
    const lookAlikes = [`\r\n--${B}X`, `\r\n--${B.slice(0, 6)}`, `\r\n-`, `\r\n--${B} x`, '\r'];
    const bodies = lookAlikes.map((l, i) => body(`${'a'.repeat(i * 7)}${l}${'b'.repeat(30 - i * 3)}${l}`));
    const writer = new MultipartWriter('application/dicom', B);
    const bytes = Buffer.concat([...bodies.flatMap((b) => [writer.partHead({}), b]), writer.end()]);
    const delimiterLength = `\r\n--${B}`.length;
    for (let size = delimiterLength; size <= delimiterLength + 45; size++) {
      const parts = await readAll(bytes, B, size);
      expect(parts.map((p) => p.body.toString('latin1')), `chunk size ${size}`).toEqual(bodies.map((b) => b.toString('latin1')));
    }
  });

  it('reads a body that starts directly with the delimiter and a part without headers', async () => {
    const bytes = body(`--${B}\r\n\r\nno headers\r\n--${B}--`);
    const parts = await readAll(bytes, B, 4);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers).toEqual({});
    expect(parts[0]!.body.toString()).toBe('no headers');
  });

  it('keeps binary bodies byte for byte, including CR, LF and hyphens near the delimiter', async () => {
    const bodies = [randomBytes(5000), body('\r\n--\r\n\r\r\n-'), Buffer.alloc(0), body(`\r\n--${B.slice(0, 5)}`), randomBytes(70_001)];
    const writer = new MultipartWriter('application/dicom', B);
    const bytes = Buffer.concat([
      ...bodies.flatMap((b) => [writer.partHead({ 'Content-Type': 'application/dicom' }), b]),
      writer.end(),
    ]);
    for (const size of [1, 9, 4096, 65536]) {
      const parts = await readAll(bytes, B, size);
      expect(parts.length).toBe(bodies.length);
      parts.forEach((p, i) => expect(p.body.equals(bodies[i]!), `part ${i}, chunk size ${size}`).toBe(true));
    }
  });

  it('gives each body as the pieces it arrived in, without copying them, and joins them only when asked', async () => {
    const bodies = [randomBytes(200_000), randomBytes(3)];
    const writer = new MultipartWriter('application/dicom', B);
    const bytes = Buffer.concat([...bodies.flatMap((b) => [writer.partHead({}), b]), writer.end()]);
    const parts = await readAll(bytes, B, 65536);
    parts.forEach((p, i) => {
      expect(p.size).toBe(bodies[i]!.length);
      expect(p.chunks.reduce((n, c) => n + c.length, 0)).toBe(p.size);
      expect(Buffer.concat(p.chunks).equals(bodies[i]!)).toBe(true);
    });
    // Views of the source's memory (a copy has a buffer of its own), but for the source's first chunk, which the reader joins to its start.
    const copies = parts.flatMap((p) => p.chunks).filter((c) => c.buffer !== bytes.buffer);
    expect(copies).toEqual([parts[0]!.chunks[0]]);
    expect(parts[0]!.chunks.length).toBeGreaterThan(1);
    expect(parts[0]!.body).toBe(parts[0]!.body); // joined once
  });

  it('yields the complete parts and then fails when the closing delimiter is missing', async () => {
    const truncated = body(`--${B}\r\nContent-Type: a/b\r\n\r\none\r\n--${B}\r\nContent-Type: a/b\r\n\r\ntwo, cut here`);
    for (const size of [1, 7, truncated.length]) {
      const { parts, error } = await readUntilError(truncated, B, size);
      expect(parts.map((p) => p.body.toString())).toEqual(['one']);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).kind).toBe('bad-request');
      expect((error as AppError).message).toContain(`before the closing delimiter "--${B}--"`);
      expect((error as AppError).message).toContain('ended inside part 2');
    }
  });

  it('fails with a message naming the boundary when the body has no delimiter at all', async () => {
    const { parts, error } = await readUntilError(body('just some bytes\r\n--OTHER\r\n\r\nx\r\n--OTHER--'), B, 3);
    expect(parts).toEqual([]);
    expect((error as AppError).kind).toBe('bad-request');
    expect((error as AppError).message).toContain(`no delimiter "--${B}"`);
  });

  it('fails on endless part headers instead of buffering them', async () => {
    const bytes = Buffer.concat([body(`--${B}\r\nX: `), Buffer.alloc(100_000, 'a')]);
    const { error } = await readUntilError(bytes, B, 1000);
    expect((error as AppError).message).toContain('headers longer than');
  });

  it('reports a part larger than maxPartSize without keeping its bytes, and goes on with the next part', async () => {
    const bytes = body(`--${B}\r\n\r\n${'x'.repeat(1000)}\r\n--${B}\r\n\r\nsmall\r\n--${B}--\r\n`);
    const parts = await readAll(bytes, B, 10, { maxPartSize: 100 });
    expect(parts[0]!.oversize).toBe(1000);
    expect(parts[0]!.body.length).toBe(0);
    expect(parts[1]!.oversize).toBeUndefined();
    expect(parts[1]!.body.toString()).toBe('small');
  });

  it('reads the source only as far as the consumer asks (backpressure)', async () => {
    const writer = new MultipartWriter('application/dicom', B);
    const chunks = [writer.partHead({}), randomBytes(1000), writer.partHead({}), randomBytes(1000), writer.partHead({}), randomBytes(1000), writer.end()];
    let pulled = 0;
    async function* source() {
      for (const c of chunks) {
        pulled++;
        yield c;
      }
    }
    const reader = readMultipart(source(), B);
    await reader.next();
    // The first part ends when the second delimiter is seen: 3 chunks, not all 7.
    expect(pulled).toBe(3);
    await reader.return(undefined);
  });

  it('rejects a missing or malformed boundary', async () => {
    await expect(readAll(body('x'), '')).rejects.toThrow('no boundary');
    await expect(readAll(body('x'), 'trailing ')).rejects.toThrow('not valid');
  });
});

describe('Content-Type parameters', () => {
  it('reads quoted and unquoted type and boundary parameters alike', () => {
    const quoted = parseMediaType('Multipart/Related; type="application/dicom"; boundary="a b:c"');
    const bare = parseMediaType('multipart/related;type=application/dicom;boundary=abc');
    expect(quoted).toEqual({ mediaType: 'multipart/related', params: { type: 'application/dicom', boundary: 'a b:c' } });
    expect(bare).toEqual({ mediaType: 'multipart/related', params: { type: 'application/dicom', boundary: 'abc' } });
    expect(parseMediaType('a/b; x="q\\"uo;ted"; y=1').params).toEqual({ x: 'q"uo;ted', y: '1' });
  });
});

describe('MultipartWriter and multipartStream', () => {
  it('write a body that Python\'s email parser reads back part by part', async () => {
    const writer = new MultipartWriter('application/octet-stream');
    const bodies = [randomBytes(3000), body('text\r\n--not a boundary\r\n'), randomBytes(1)];
    async function* slowBody(b: Buffer) {
      for (let i = 0; i < b.length; i += 700) yield b.subarray(i, i + 700);
    }
    const stream = multipartStream(writer, [
      { headers: { 'Content-Type': 'application/octet-stream' }, body: slowBody(bodies[0]!) },
      { headers: { 'Content-Type': 'text/plain' }, body: bodies[1]! },
      { headers: { 'Content-Type': 'application/octet-stream' }, body: bodies[2]! },
    ]);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const message = Buffer.concat([body(`Content-Type: ${writer.contentType}\r\n\r\n`), ...chunks]);
    const script = [
      'import sys, email, json',
      'from email import policy',
      'm = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.HTTP)',
      'parts = [p for p in m.iter_parts()]',
      'print(json.dumps({"type": m.get_content_type(), "parts": [[p.get_content_type(), p.get_payload(decode=True).hex()] for p in parts]}))',
    ].join('\n');
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: message }).toString()) as {
      type: string;
      parts: Array<[string, string]>;
    };
    expect(out.type).toBe('multipart/related');
    expect(out.parts.map(([t]) => t)).toEqual(['application/octet-stream', 'text/plain', 'application/octet-stream']);
    out.parts.forEach(([, hex], i) => expect(hex).toBe(bodies[i]!.toString('hex')));
  });

  it('writes a boundary that never needs quoting and a Content-Type naming the part type', () => {
    const writer = new MultipartWriter('application/dicom');
    expect(writer.boundary).toMatch(/^[A-Za-z0-9-]+$/);
    expect(parseMediaType(writer.contentType)).toEqual({
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: writer.boundary },
    });
  });
});
