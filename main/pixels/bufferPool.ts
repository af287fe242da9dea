/**
 * Frame-sized scratch buffers kept for reuse by one thread's pixel paths (the
 * frame read from the file, the decoded frame, the 8-bit display pixels), so
 * that rendering or decoding an image allocates no new frame-sized memory.
 *
 * Why: a fresh allocation of a few hundred KB is new memory to the process
 * (glibc maps it, or takes it from a heap top it trimmed back to the kernel
 * after the last GC freed such buffers), and every 4 KB page of it faults and
 * is zeroed by the kernel on first touch. Measured with bench:pixels (minor
 * faults of our server per request): about 80 per rendered native 512x512
 * image, and reading or looking up into such memory 2-7 times slower than into
 * memory already touched.
 *
 * Ownership is explicit: `take` lends a buffer, `give` returns it when nothing
 * refers to it any more (an asynchronous encoder included). Only buffers this
 * pool lent are taken back; at most `maxKeptBytes` are kept.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();
  private keptBytes = 0;

  constructor(private readonly maxKeptBytes: number) {}

  /** A buffer of `length` bytes (contents undefined), lent until `give`. */
  take(length: number): Buffer {
    let index = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength;
      if (size >= length && (index < 0 || size < this.free[index]!.byteLength)) index = i;
    }
    let memory: ArrayBuffer;
    if (index >= 0) {
      memory = this.free.splice(index, 1)[0]!;
      this.keptBytes -= memory.byteLength;
    } else {
      memory = Buffer.allocUnsafeSlow(length).buffer as ArrayBuffer; // its own ArrayBuffer of exactly `length` bytes
    }
    this.lent.add(memory);
    return Buffer.from(memory, 0, length);
  }

  /** Takes back a buffer `take` lent (anything else is ignored); the caller no longer uses it. */
  give(buffer: Buffer): void {
    const memory = buffer.buffer as ArrayBuffer;
    if (!this.lent.has(memory)) return;
    this.lent.delete(memory);
    if (memory.byteLength === 0 || this.keptBytes + memory.byteLength > this.maxKeptBytes) return; // detached, or too much kept
    this.free.push(memory);
    this.keptBytes += memory.byteLength;
  }
}
