import { SignerError, type SignerErrorCode } from '../errors.js';
import type { DebugLog } from '../debug.js';
import type { Credentials } from './credentials.js';
import type { CreateSessionHttpRequest } from './request.js';
import type { HttpSend, HttpResponse } from './http-wire.js';
import { parseCreateSessionAnswer } from './answer.js';
import { toTerminalText } from '../terminal-text.js';

/** Signs the request anew for each attempt: X-Amz-Date must be fresh on a retry. */
export type SignAttempt = (request: CreateSessionHttpRequest) => Promise<Readonly<Record<string, string>>>;

export interface CreateSessionOptions {
  readonly request: CreateSessionHttpRequest;
  readonly sign: SignAttempt;
  readonly send: HttpSend;
  readonly debug: DebugLog;
  /** Total attempts, the first included. */
  readonly maxAttempts?: number;
  /** The whole call, retries and their pauses included, from the first request sent (--timeout). */
  readonly deadlineMs?: number;
  /** The most one attempt may take, so a hung connection still leaves time for a retry. */
  readonly attemptTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Monotonic milliseconds; default process.hrtime (the `performance` global costs a cold start ten modules). */
  readonly now?: () => number;
  /** Judges whether the answer's expiration is far enough ahead. */
  readonly clock?: () => Date;
  /** Appended to a 404's message: where the trust anchor and profile were looked up. */
  readonly notFoundContext?: string;
}

/** Attempts per CreateSession call, the first included (documented in docs/cli.md). */
export const MAX_ATTEMPTS = 3;
/**
 * Default of --timeout. The SDKs that bound a credential_process at all do so at 30 s
 * (smithy-python) and 60 s (Go v2); botocore and JS v3 wait for ever. 20 s leaves an SDK room
 * for the key's own time (PIN, touch) and still ends well before theirs.
 */
export const DEFAULT_DEADLINE_SECONDS = 20;
const ATTEMPT_TIMEOUT_MS = 10_000;
/** No new attempt starts with less time than this left: it could not finish. */
const MIN_ATTEMPT_MS = 250;

const retryableStatus = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Calls CreateSession with retries on throttling, server errors and network failures that can
 * pass (never on 4xx answers about the request, an untrusted certificate, a proxy that refuses,
 * or an oversized answer: repeating them cannot help and costs hardware signatures), all within
 * one deadline, then maps the answer into Credentials or a coded error.
 */
export async function createSession(options: CreateSessionOptions): Promise<Credentials> {
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_SECONDS * 1000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => Number(process.hrtime.bigint()) / 1e6);
  const target = `${options.request.url.origin}${options.request.path}`;
  let deadline: number | undefined;

  for (let attempt = 1; ; attempt++) {
    const headers = await options.sign(options.request);
    // The clock starts with the first request: opening the key (PIN, touch) is not network time.
    deadline ??= now() + deadlineMs;
    const remaining = deadline - now();
    const timeoutMs = Math.max(1, Math.floor(Math.min(attemptTimeoutMs, remaining)));
    const cutByDeadline = timeoutMs < attemptTimeoutMs;
    options.debug(`POST ${target} (attempt ${attempt} of ${maxAttempts}, ${Math.ceil(timeoutMs / 1000)} s at most)`);
    const started = now();
    let response: HttpResponse;
    try {
      response = await options.send({
        url: options.request.url,
        method: options.request.method,
        headers,
        body: options.request.body,
        signal: AbortSignal.timeout(timeoutMs),
        debug: options.debug,
      });
    } catch (cause) {
      const failure = networkError(target, cause, cutByDeadline ? { deadlineMs } : { timeoutMs });
      options.debug(`no answer: ${failure.error.message}`);
      if (!failure.retryable) throw failure.error;
      await pauseBeforeRetry(attempt, failure.error);
      continue;
    }
    options.debug(`answer ${response.status} after ${Math.round(now() - started)} ms`);
    if (response.status === 201) return parseCreateSessionAnswer(response.body, { target, now: (options.clock ?? (() => new Date()))() });
    const failure = serviceError(response, target, options.notFoundContext);
    if (!retryableStatus.has(response.status)) throw failure;
    await pauseBeforeRetry(attempt, failure);
  }

  /** Throws `failure` when no attempt is left, or no time for one; else waits the backoff. */
  async function pauseBeforeRetry(attempt: number, failure: SignerError): Promise<void> {
    if (attempt >= maxAttempts) throw failure;
    const pause = backoffMs(attempt, random);
    const left = (deadline ?? 0) - now() - pause;
    if (left < MIN_ATTEMPT_MS) {
      options.debug(`not retrying: the ${deadlineMs / 1000} s deadline (--timeout) leaves no time for another attempt`);
      throw failure;
    }
    options.debug(`retrying in ${pause} ms`);
    await sleep(pause);
  }
}

/** Full jitter over an exponential ceiling (200 ms, 400 ms, ... capped at 3 s). */
function backoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(3000, 200 * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Errors the HTTP layer already worded (a proxy that says no, an oversized answer, an unusable
 * CA setting) pass through unretried; others are worded here, and only timeouts and broken
 * connections are worth another attempt. doctor words its endpoint line with it too.
 */
export function networkError(target: string, cause: unknown, limit: { timeoutMs: number } | { deadlineMs: number }): { error: SignerError; retryable: boolean } {
  const made = (error: SignerError, retryable: boolean): { error: SignerError; retryable: boolean } => ({ error, retryable });
  if (cause instanceof SignerError) return made(cause, cause.code === 'NETWORK_ERROR');
  const name = (cause as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    const within = 'deadlineMs' in limit ? `within the ${limit.deadlineMs / 1000} s deadline (--timeout)` : `within ${limit.timeoutMs / 1000} s`;
    return made(new SignerError('NETWORK_ERROR', `no answer from ${target} ${within}: check --endpoint and your network or proxy`, { cause }), 'timeoutMs' in limit);
  }
  const code = findErrorCode(cause);
  if (code !== undefined && tlsVerificationCodes.test(code)) {
    return made(new SignerError('TLS_UNTRUSTED', `the TLS certificate of ${target} is not trusted (${code}): fix the endpoint's certificate or add its CA (behind a TLS-inspecting proxy: your company's CA) with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)`, { cause }), false);
  }
  const detail = code === undefined ? 'connection failed' : code;
  return made(new SignerError('NETWORK_ERROR', `cannot reach ${target} (${detail}): check --endpoint, the network and any proxy settings`, { cause }), true);
}

/** OpenSSL's verification failures as Node reports them (DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
const tlsVerificationCodes = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

/** Socket errors may arrive wrapped (a `cause` chain): take the first code. */
function findErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const errorCodeByStatus: ReadonlyArray<readonly [(status: number) => boolean, SignerErrorCode]> = [
  [(s) => s === 403 || s === 401, 'CREATE_SESSION_DENIED'],
  [(s) => s === 404, 'CREATE_SESSION_NOT_FOUND'],
  [(s) => s === 429, 'CREATE_SESSION_THROTTLED'],
  [(s) => s >= 500, 'CREATE_SESSION_SERVER_ERROR'],
  [(s) => s >= 400, 'CREATE_SESSION_INVALID_REQUEST'],
];

function serviceError(response: HttpResponse, target: string, notFoundContext?: string): SignerError {
  const code = errorCodeByStatus.find(([matches]) => matches(response.status))?.[1] ?? 'CREATE_SESSION_BAD_RESPONSE';
  const { type, message } = describeServiceError(response);
  const verb = code === 'CREATE_SESSION_DENIED' ? 'denied' : 'failed';
  const label = type === undefined ? `${response.status}` : `${response.status} ${type}`;
  const text = message === undefined ? `${target} answered without an error message` : message;
  const hint = code === 'CREATE_SESSION_BAD_RESPONSE'
    ? ': check that --endpoint points at IAM Roles Anywhere'
    : code === 'CREATE_SESSION_NOT_FOUND' && notFoundContext !== undefined ? ` (${notFoundContext})` : '';
  return new SignerError(code, `CreateSession ${verb} (${label}): ${text}${hint}`);
}

/** Error type from x-amzn-ErrorType or the body's __type; message from the JSON body. */
function describeServiceError(response: HttpResponse): { type?: string; message?: string } {
  let type = response.headers['x-amzn-errortype']?.split(':')[0];
  let message: string | undefined;
  try {
    const parsed = JSON.parse(response.body) as { message?: unknown; Message?: unknown; __type?: unknown };
    const candidate = parsed.message ?? parsed.Message;
    if (typeof candidate === 'string') message = oneLine(candidate);
    if (type === undefined && typeof parsed.__type === 'string') type = parsed.__type.split('#').pop();
  } catch {
    // not JSON: a proxy's or load balancer's page; the status says enough
  }
  const result: { type?: string; message?: string } = {};
  if (type !== undefined) type = toTerminalText(type, 100);
  if (type !== undefined && type !== '') result.type = type;
  if (message !== undefined && message !== '') result.message = message;
  return result;
}

/** Server-supplied text: one line, no terminal controls (ESC, OSC, BEL, bidi overrides). */
function oneLine(text: string): string {
  return toTerminalText(text.replace(/\s+/g, ' ').trim(), 300);
}
