import { SignerError, type SignerErrorCode } from '../errors.js';
import type { DebugLog } from '../debug.js';
import type { Credentials } from './credentials.js';
import type { CreateSessionHttpRequest } from './request.js';
import type { HttpSend, HttpResponse } from './http.js';

/** Signs the request anew for each attempt: X-Amz-Date must be fresh on a retry. */
export type SignAttempt = (request: CreateSessionHttpRequest) => Promise<Readonly<Record<string, string>>>;

export interface CreateSessionOptions {
  readonly request: CreateSessionHttpRequest;
  readonly sign: SignAttempt;
  readonly send: HttpSend;
  readonly debug: DebugLog;
  /** Total attempts, the first included. */
  readonly maxAttempts?: number;
  /** Per-attempt timeout. */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const retryableStatus = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Calls CreateSession with retries on throttling, server errors and network failures only
 * (never on 4xx answers about the request: repeating them cannot help and costs hardware
 * signatures), then maps the answer into Credentials or a coded error.
 */
export async function createSession(options: CreateSessionOptions): Promise<Credentials> {
  const maxAttempts = options.maxAttempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const target = `${options.request.url.origin}${options.request.path}`;

  for (let attempt = 1; ; attempt++) {
    const headers = await options.sign(options.request);
    options.debug(`POST ${target} (attempt ${attempt} of ${maxAttempts})`);
    const started = performance.now();
    let response: HttpResponse;
    try {
      response = await options.send({
        url: options.request.url,
        method: options.request.method,
        headers,
        body: options.request.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const failure = networkError(target, cause, timeoutMs);
      options.debug(`no answer: ${failure.message}`);
      if (attempt >= maxAttempts) throw failure;
      await sleep(backoffMs(attempt, random));
      continue;
    }
    options.debug(`answer ${response.status} after ${Math.round(performance.now() - started)} ms`);
    if (response.status === 201) return parseCredentials(response, target);
    const failure = serviceError(response, target);
    if (!retryableStatus.has(response.status) || attempt >= maxAttempts) throw failure;
    await sleep(backoffMs(attempt, random));
  }
}

/** Full jitter over an exponential ceiling (200 ms, 400 ms, ... capped at 3 s). */
function backoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(3000, 200 * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

function networkError(target: string, cause: unknown, timeoutMs: number): SignerError {
  const name = (cause as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new SignerError('NETWORK_ERROR', `no answer from ${target} within ${timeoutMs / 1000} s: check --endpoint and your network or proxy`, { cause });
  }
  const code = findErrorCode(cause);
  if (code !== undefined && tlsVerificationCodes.test(code)) {
    return new SignerError('NETWORK_ERROR', `the TLS certificate of ${target} is not trusted (${code}): fix the endpoint's certificate or add its CA with NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)`, { cause });
  }
  const detail = code === undefined ? 'connection failed' : code;
  return new SignerError('NETWORK_ERROR', `cannot reach ${target} (${detail}): check --endpoint, the network and any proxy settings`, { cause });
}

/** OpenSSL's verification failures as Node reports them (DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
const tlsVerificationCodes = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

/** undici wraps socket errors (ECONNREFUSED, ENOTFOUND, certificate errors) in `cause`. */
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

function serviceError(response: HttpResponse, target: string): SignerError {
  const code = errorCodeByStatus.find(([matches]) => matches(response.status))?.[1] ?? 'CREATE_SESSION_BAD_RESPONSE';
  const { type, message } = describeServiceError(response);
  const verb = code === 'CREATE_SESSION_DENIED' ? 'denied' : 'failed';
  const label = type === undefined ? `${response.status}` : `${response.status} ${type}`;
  const text = message === undefined ? `${target} answered without an error message` : message;
  const hint = code === 'CREATE_SESSION_BAD_RESPONSE' ? ': check that --endpoint points at IAM Roles Anywhere' : '';
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
  if (type !== undefined && type !== '') result.type = type;
  if (message !== undefined && message !== '') result.message = message;
  return result;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

function parseCredentials(response: HttpResponse, target: string): Credentials {
  const bad = (why: string): never => {
    throw new SignerError('CREATE_SESSION_BAD_RESPONSE', `${target} answered 201 but ${why}: check that --endpoint points at IAM Roles Anywhere`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return bad('the body is not JSON');
  }
  const set = (parsed as { credentialSet?: unknown }).credentialSet;
  if (!Array.isArray(set) || set.length === 0) return bad('without a credentialSet');
  const credentials = (set[0] as { credentials?: Record<string, unknown> }).credentials;
  if (credentials === undefined || credentials === null || typeof credentials !== 'object') return bad('without credentials');
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') return bad('without an accessKeyId');
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') return bad('without a secretAccessKey');
  if (typeof sessionToken !== 'string' || sessionToken === '') return bad('without a sessionToken');
  if (typeof expiration !== 'string') return bad('without an expiration');
  const expires = new Date(expiration);
  if (Number.isNaN(expires.getTime())) return bad('with an expiration that is not a date');
  return { accessKeyId, secretAccessKey, sessionToken, expiration: expires };
}
