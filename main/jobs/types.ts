/**
 * Jobs: long work (retrieve, stow) with progress, cancel and retry, listed and
 * controlled over HTTP (`/jobs`, as Orthanc names them) and, later, over IPC.
 * States and JSON shape follow Orthanc's jobs engine.
 */

export type JobState = 'Pending' | 'Running' | 'Success' | 'Failure' | 'Cancelled';

export interface JobProgress {
  instancesDone: number;
  instancesTotal?: number;
  bytesDone: number;
  bytesTotal?: number;
  /** Bytes per second over the last few seconds. */
  bytesPerSecond: number;
  /** Free text: what it is doing now ("series 2/5 from 'pacs'"). */
  step?: string;
}

/** What a job's work function gets. */
export interface JobContext {
  readonly signal: AbortSignal;
  /** Merge new progress figures (cheap; call as often as you like). */
  progress(update: Partial<Omit<JobProgress, 'bytesPerSecond'>> & { addBytes?: number; addInstances?: number }): void;
  /** Attempt number, 1 for the first run (retries of transient errors increment it). */
  readonly attempt: number;
  /**
   * What was done so far (JSON), shown as Result when the job ends in Failure
   * or Cancelled (e.g. the instances stored before a connection reset).
   */
  partialResult(result: unknown): void;
}

/** A job's work: resolves with its result (JSON), rejects with an AppError. */
export type JobWork<R> = (ctx: JobContext) => Promise<R>;

/** Orthanc-like description, as GET /jobs/{id} answers it. */
export interface JobInfo {
  ID: string;
  /** 'DicomWebRetrieve' | 'DicomWebStow' | … */
  Type: string;
  State: JobState;
  /** 0–100 */
  Progress: number;
  CreationTime: string;
  CompletionTime?: string;
  /** Seconds. */
  EffectiveRuntime: number;
  ErrorCode: number;
  /** The error's sentence, '' on success. */
  ErrorDescription: string;
  ErrorKind?: string;
  /** 1 for the first run; each automatic retry of a transient error adds one. */
  Attempt: number;
  /** What was asked (server name, resources…) — never secrets. */
  Content: Record<string, unknown>;
  Details: JobProgress;
  /** Present once State is Success (and, partially, on Failure when some work was done). */
  Result?: unknown;
}

export interface Jobs {
  /** Starts a job now (bounded concurrency; may stay Pending). */
  submit<R>(type: string, content: Record<string, unknown>, work: JobWork<R>): JobInfo;
  get(id: string): JobInfo | undefined;
  /** Newest first. */
  list(): JobInfo[];
  /** Aborts a Pending/Running job (its work sees signal.aborted); false when not cancellable. */
  cancel(id: string): boolean;
  /** Runs a Failure/Cancelled job again with the same work; false when not possible. */
  resubmit(id: string): boolean;
  /** Resolves when the job ends (any final state). */
  wait(id: string): Promise<JobInfo>;
  /** Cancels everything (engine shutdown). */
  close(): Promise<void>;
}
