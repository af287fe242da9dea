// Type declarations for codec packages that ship none (main/pixels/codecs/).
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (options?: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (options?: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (options?: object) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer | null, numBytes?: number);
    decode(buffer?: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
    numComp: number;
    xDim: number;
    xLoc: number;
    yLoc: number;
    stream: { index: number };
    getPreviousX(compOffset?: number): number;
    getPreviousY(compOffset?: number): number;
    select7(compOffset?: number): number;
    yDim: number;
  }
}
