/**
 * Loads an emscripten-built codec (the @cornerstonejs/codec-* packages) once
 * per thread and hands out its decoder object. A wasm trap or an exception
 * thrown inside the codec may leave the module's heap in an unknown state,
 * so after any failure the instance is dropped and the next frame loads a
 * fresh one.
 *
 * The codecs report some failures only by printing (OpenJPEG's "[ERROR] …"
 * lines, after which decode() returns normally and the decoder still holds
 * the previous frame's size and pixels): what they print during a decode is
 * collected, and each codec fails the decode on the lines that mean failure.
 */

export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete?(): void;
}

type Factory = (options?: object) => Promise<Record<string, unknown>>;

export interface WasmCodec<D extends WasmDecoder> {
  /**
   * Runs `use` with the thread's decoder; on a throw the instance is discarded.
   * `printed()` gives the lines the codec printed since `use` began.
   */
  withDecoder<T>(use: (decoder: D, printed: () => string[]) => T): Promise<T>;
}

export function wasmCodec<D extends WasmDecoder>(load: () => Promise<{ default: unknown }>, className: string): WasmCodec<D> {
  let instance: Promise<D> | undefined;
  let exceptionMessage: ((pointer: number) => unknown) | undefined;
  let errors: string[] = [];
  // The codecs print progress and warnings (OpenJPEG's [INFO] lines) to stdout: not for a server's
  // log; lines are kept for the decode that printed them.
  const collect = (line: string) => {
    if (errors.length < 20) errors.push(line.trim());
  };
  const create = async (): Promise<D> => {
    const factory = (await load()).default as Factory;
    const module = await factory({ print: collect, printErr: collect });
    // A C++ exception reaches JavaScript as a pointer; builds that export getExceptionMessage can say what it was.
    const getMessage = module.getExceptionMessage;
    exceptionMessage = typeof getMessage === 'function' ? (pointer) => (getMessage as (p: number) => unknown)(pointer) : undefined;
    const Decoder = module[className] as new () => D;
    return new Decoder();
  };
  return {
    async withDecoder(use) {
      instance ??= create();
      let decoder: D;
      try {
        decoder = await instance;
      } catch (err) {
        instance = undefined;
        throw err;
      }
      errors = [];
      try {
        return use(decoder, () => errors);
      } catch (err) {
        instance = undefined;
        let described = err;
        if (typeof err === 'number') {
          described = new Error(`it threw a C++ exception (${err}): the compressed data is not valid${errors.length ? ` (${errors.join('; ')})` : ''}`);
          try {
            const message = exceptionMessage?.(err);
            if (message) described = new Error(Array.isArray(message) ? message.filter(Boolean).join(': ') : String(message));
          } catch {
            // keep the generic description
          }
        }
        try {
          decoder.delete?.();
        } catch {
          // the module may be aborted: nothing more to free
        }
        throw described;
      }
    },
  };
}
