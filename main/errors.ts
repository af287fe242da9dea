/**
 * Errors as data with a kind. Every failure the engine reports carries one of
 * these kinds; the kind is mapped once to an HTTP status (here) and once to a
 * UI message (renderer). Messages name what failed and why.
 */

export type ErrorKind =
  | 'bad-request' // malformed query parameter, body, identifier
  | 'bad-dicom' // bytes that are not a readable DICOM instance
  | 'not-found' // unknown resource, UID or route
  | 'conflict' // e.g. STOW where no instance could be stored
  | 'unsupported-media-type' // request Content-Type we do not take
  | 'not-acceptable' // nothing in Accept can be produced
  | 'payload-too-large'
  | 'unauthorized' // missing or wrong credentials
  | 'config' // invalid configuration file
  | 'store-corrupt' // index and files disagree
  | 'store-in-use' // another process has the store open
  | 'remote-unreachable' // remote DICOMweb server could not be reached
  | 'remote-status' // remote answered with an HTTP error status
  | 'cancelled'
  | 'internal';

export const httpStatusOfKind: Record<ErrorKind, number> = {
  'bad-request': 400,
  'bad-dicom': 400,
  'not-found': 404,
  conflict: 409,
  'unsupported-media-type': 415,
  'not-acceptable': 406,
  'payload-too-large': 413,
  unauthorized: 401,
  config: 500,
  'store-corrupt': 500,
  'store-in-use': 503,
  'remote-unreachable': 502,
  'remote-status': 502,
  cancelled: 499,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string) => new AppError('bad-request', message);
export const notFound = (message: string) => new AppError('not-found', message);

/** Any thrown value as an AppError (unknown errors become 'internal'). */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError('internal', message);
}

/** Result type for operations that report failure as data (IPC, batch ingest). */
export type Result<T, E = AppError> = { ok: true; value: T } | { ok: false; error: E };
