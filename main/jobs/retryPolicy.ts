/**
 * When a failed job is run again by itself: the retry policy as data.
 * Transient errors only — the remote could not be reached (refused, reset,
 * timeout: AppError 'remote-unreachable') or answered 5xx / 429
 * ('remote-status' with details.status). Everything else (401, 403, 404, a
 * malformed answer, a bad request) fails at once: trying again would not help.
 * Delays grow exponentially: baseDelayMs, 2×, 4×… capped at maxDelayMs.
 */
import { AppError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  retries: number;
  /** Delay before the first retry, in milliseconds. */
  baseDelayMs: number;
  /** Longest delay between two attempts, in milliseconds. */
  maxDelayMs: number;
  /** Remote HTTP statuses worth another attempt. */
  transientStatuses: (status: number) => boolean;
}

export const defaultRetryPolicy: RetryPolicy = {
  retries: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  transientStatuses: (status) => status >= 500 || status === 429,
};

/** True when `err` is worth another attempt under `policy`. */
export function isTransient(err: unknown, policy: RetryPolicy = defaultRetryPolicy): boolean {
  if (!(err instanceof AppError)) return false;
  if (err.kind === 'remote-unreachable') return true;
  if (err.kind === 'remote-status') {
    const status = err.details?.status;
    return typeof status === 'number' && policy.transientStatuses(status);
  }
  return false;
}

/** Milliseconds to wait before attempt number `nextAttempt` (2 for the first retry). */
export function retryDelay(policy: RetryPolicy, nextAttempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, nextAttempt - 2));
}
