import { SignerError, isSignerError } from '../errors.js';
import { formatExpiration, type Credentials } from './types.js';

/**
 * Keeps one set of temporary credentials fresh for `serve`, `update` and the SDK provider.
 *
 * The rules, each one a weakness of the reference helper (ARCHITECTURE.md, "Protocol facts"):
 * - one CreateSession in flight at a time, however many callers ask at once;
 * - refresh ahead of expiry (15 minutes by default, plus up to 5 minutes of jitter so that a
 *   fleet started together does not refresh together), in the background when `background`;
 * - a failed refresh never discards the last good credentials; they are handed out until they
 *   are no longer usable, and only then does `get` fail (CREDENTIALS_UNAVAILABLE);
 * - attempts are spaced by a minimum interval that doubles after each failure (capped), so a
 *   broken endpoint or a hardware key is not hammered, and CreateSession's 10 TPS quota is safe;
 * - but once the last good credentials are gone or nearly so (clients are failing), retries
 *   come faster: 1 s doubling to at most 8 s, stretched by up to half at random so a fleet
 *   does not retry in step, so service resumes within seconds of the endpoint's return.
 *
 * Pure apart from what is passed in: the clock, the timers and the random source.
 */
export interface RefresherOptions {
  /** One CreateSession (signing included). */
  readonly fetch: () => Promise<Credentials>;
  readonly clock: () => Date;
  readonly timers?: Timers;
  /** In [0, 1); jitter of the refresh time. */
  readonly random?: () => number;
  /** Refresh this long before expiry; default 15 minutes (botocore's advisory window). */
  readonly refreshAheadMs?: number;
  /** Extra, random, refresh-ahead time; default 5 minutes. */
  readonly jitterMs?: number;
  /** Least time between two attempts; default 10 s. Doubles after each failure. */
  readonly minIntervalMs?: number;
  /** Ceiling of that doubling; default 5 minutes. */
  readonly maxBackoffMs?: number;
  /** Credentials with less than this left count as expired; default 60 s. */
  readonly usableMarginMs?: number;
  /** With less than this left (or nothing usable), failed attempts retry fast; default 5 minutes (the JS SDK's refresh window). */
  readonly urgentWindowMs?: number;
  /** First fast retry interval; default 1 s. Doubles after each failure up to urgentMaxBackoffMs. */
  readonly urgentMinIntervalMs?: number;
  /** Ceiling of the fast retry interval before jitter; default 8 s. */
  readonly urgentMaxBackoffMs?: number;
  /** Refresh on a timer (serve, update) rather than only when asked (SDK provider). */
  readonly background?: boolean;
  /** Secret-free notices for logs: refreshed, failed, scheduled. */
  readonly onEvent?: (event: RefresherEvent) => void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type RefresherEvent =
  | { readonly type: 'refreshed'; readonly expiration: Date; readonly refreshAt: Date }
  | { readonly type: 'refresh-failed'; readonly error: unknown; readonly failures: number; readonly retryAt: Date; readonly servingUntil?: Date }
  | { readonly type: 'scheduled'; readonly at: Date };

/** Credentials and when they were obtained (IMDS reports it as LastUpdated). */
export interface CredentialsSnapshot {
  readonly credentials: Credentials;
  readonly obtainedAt: Date;
}

export interface RefresherStats {
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
}

export interface Refresher {
  /** The first fetch; it fails fast (the error of that fetch) so a service never starts empty. */
  start(): Promise<CredentialsSnapshot>;
  /** Usable credentials: the current ones, or the result of the one refresh in flight. */
  get(): Promise<CredentialsSnapshot>;
  /** Usable credentials without waiting, or undefined. */
  current(): CredentialsSnapshot | undefined;
  /**
   * get() without a promise when it can answer from memory: usable credentials, starting the
   * due refresh in the background as get() does; undefined when the caller must await get().
   */
  getNow(): CredentialsSnapshot | undefined;
  /** Starts a refresh now unless one is in flight or the interval forbids it; never rejects. */
  refreshNow(): Promise<void>;
  stats(): RefresherStats;
  /** Stops the timer and waits for a refresh in flight to settle. */
  stop(): Promise<void>;
}

const DEFAULT_REFRESH_AHEAD_MS = 15 * 60_000;
const DEFAULT_JITTER_MS = 5 * 60_000;
const DEFAULT_MIN_INTERVAL_MS = 10_000;
const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;
const DEFAULT_USABLE_MARGIN_MS = 60_000;
const DEFAULT_URGENT_WINDOW_MS = 5 * 60_000;
const DEFAULT_URGENT_MIN_INTERVAL_MS = 1_000;
const DEFAULT_URGENT_MAX_BACKOFF_MS = 8_000;
// Fast retries are stretched by a random factor in [1, 1.5).
const URGENT_JITTER = 0.5;

const realTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending refresh must not keep a library user's process alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Held extends CredentialsSnapshot {
  /** Fixed once per credentials so the timer and `get` agree on the jittered time. */
  readonly refreshAt: number;
}

export function createRefresher(options: RefresherOptions): Refresher {
  const timers = options.timers ?? realTimers;
  const random = options.random ?? Math.random;
  const refreshAheadMs = options.refreshAheadMs ?? DEFAULT_REFRESH_AHEAD_MS;
  const jitterMs = options.jitterMs ?? DEFAULT_JITTER_MS;
  const minIntervalMs = options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  const maxBackoffMs = Math.max(options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, minIntervalMs);
  const usableMarginMs = options.usableMarginMs ?? DEFAULT_USABLE_MARGIN_MS;
  const urgentWindowMs = Math.max(options.urgentWindowMs ?? DEFAULT_URGENT_WINDOW_MS, usableMarginMs);
  const urgentMinIntervalMs = options.urgentMinIntervalMs ?? DEFAULT_URGENT_MIN_INTERVAL_MS;
  const urgentMaxBackoffMs = Math.max(options.urgentMaxBackoffMs ?? DEFAULT_URGENT_MAX_BACKOFF_MS, urgentMinIntervalMs);
  const emit = options.onEvent ?? (() => {});
  const now = () => options.clock().getTime();

  let held: Held | undefined;
  let inFlight: Promise<Held> | undefined;
  let lastAttemptAt: number | undefined;
  let consecutiveFailures = 0;
  // Drawn once per failure, so the timer and callers agree on the next fast retry.
  let urgentJitter = 1;
  let lastError: unknown;
  let timer: unknown;
  let stopped = false;
  const counts = { attempts: 0, successes: 0, failures: 0 };

  const usable = (at: number): Held | undefined =>
    held !== undefined && held.credentials.expiration.getTime() - at > usableMarginMs ? held : undefined;

  /** When the credentials held count as nearly gone: from then on, failures retry fast. */
  const urgentFrom = (): number => (held === undefined ? -Infinity : held.credentials.expiration.getTime() - urgentWindowMs);

  /** The earliest fast retry after the last failed attempt. */
  const urgentAttemptAt = (): number => {
    if (lastAttemptAt === undefined) return -Infinity;
    return lastAttemptAt + Math.min(urgentMaxBackoffMs, urgentMinIntervalMs * 2 ** Math.max(0, consecutiveFailures - 1)) * urgentJitter;
  };

  /**
   * The earliest time the next attempt may start: the interval, doubled per failure; while
   * the credentials are nearly gone, the fast retry interval instead when that is sooner.
   */
  const nextAttemptAt = (at: number = now()): number => {
    if (lastAttemptAt === undefined) return -Infinity;
    if (consecutiveFailures === 0) return lastAttemptAt + minIntervalMs;
    const normal = lastAttemptAt + Math.min(maxBackoffMs, minIntervalMs * 2 ** (consecutiveFailures - 1));
    return at >= urgentFrom() ? Math.min(normal, urgentAttemptAt()) : normal;
  };

  const refreshTimeFor = (credentials: Credentials, obtainedAt: number): number => {
    const expiresAt = credentials.expiration.getTime();
    const lifetime = expiresAt - obtainedAt;
    let ahead = refreshAheadMs + random() * jitterMs;
    // Credentials shorter-lived than twice the window (900 s sessions) refresh at half-life:
    // refreshing "15 minutes ahead" would mean refreshing them continuously.
    if (ahead > lifetime / 2) ahead = lifetime / 2;
    return expiresAt - ahead;
  };

  const schedule = (): void => {
    if (options.background !== true || stopped) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    let at = consecutiveFailures > 0 || held === undefined ? nextAttemptAt() : Math.max(held.refreshAt, nextAttemptAt());
    // Failing while the credentials still last: wake when they become nearly gone, to retry fast then.
    if (consecutiveFailures > 0 && now() < urgentFrom()) at = Math.min(at, Math.max(urgentFrom(), urgentAttemptAt()));
    const delay = Math.max(0, at - now());
    timer = timers.setTimeout(() => {
      timer = undefined;
      void attempt().catch(() => {});
    }, delay);
    emit({ type: 'scheduled', at: new Date(now() + delay) });
  };

  const attempt = (): Promise<Held> => {
    if (inFlight !== undefined) return inFlight;
    const startedAt = now();
    lastAttemptAt = startedAt;
    counts.attempts++;
    const running = (async (): Promise<Held> => {
      try {
        // Started a microtask later, so that a fetch that throws before returning its promise
        // still settles this attempt after `inFlight` is set below, instead of wedging it.
        const credentials = await Promise.resolve().then(() => options.fetch());
        const obtainedAt = now();
        if (credentials.expiration.getTime() - obtainedAt <= usableMarginMs) {
          throw new SignerError('CREATE_SESSION_BAD_RESPONSE', `CreateSession returned credentials that expire at ${formatExpiration(credentials.expiration)}, already past or within a minute: check this machine's clock`);
        }
        const next: Held = { credentials, obtainedAt: new Date(obtainedAt), refreshAt: refreshTimeFor(credentials, obtainedAt) };
        held = next;
        consecutiveFailures = 0;
        lastError = undefined;
        counts.successes++;
        emit({ type: 'refreshed', expiration: credentials.expiration, refreshAt: new Date(next.refreshAt) });
        return next;
      } catch (error) {
        consecutiveFailures++;
        urgentJitter = 1 + random() * URGENT_JITTER;
        counts.failures++;
        lastError = error;
        const kept = usable(now());
        emit({
          type: 'refresh-failed',
          error,
          failures: consecutiveFailures,
          retryAt: new Date(Math.max(nextAttemptAt(), now())),
          ...(kept !== undefined ? { servingUntil: new Date(kept.credentials.expiration.getTime() - usableMarginMs) } : {}),
        });
        throw error;
      } finally {
        inFlight = undefined;
        schedule();
      }
    })();
    inFlight = running;
    return running;
  };

  const unavailable = (at: number): SignerError => {
    const retryIn = Math.max(0, Math.ceil((nextAttemptAt() - at) / 1000));
    const why = lastError === undefined ? 'no refresh has succeeded yet' : `the last refresh failed: ${describe(lastError)}`;
    return new SignerError('CREDENTIALS_UNAVAILABLE', `no valid credentials: ${why}; next attempt in ${retryIn} s`, lastError === undefined ? undefined : { cause: lastError });
  };

  return {
    async start() {
      return snapshot(await attempt());
    },

    async get() {
      const at = now();
      const current = usable(at);
      if (current !== undefined) {
        if (at >= current.refreshAt && at >= nextAttemptAt()) void attempt().catch(() => {});
        return snapshot(current);
      }
      if (inFlight === undefined && at < nextAttemptAt()) throw unavailable(at);
      try {
        return snapshot(await attempt());
      } catch {
        // Another caller's refresh may have failed after ours was queued; report the state.
        const fallback = usable(now());
        if (fallback !== undefined) return snapshot(fallback);
        throw unavailable(now());
      }
    },

    current() {
      const current = usable(now());
      return current === undefined ? undefined : snapshot(current);
    },

    getNow() {
      const at = now();
      const current = usable(at);
      if (current === undefined) return undefined;
      if (at >= current.refreshAt && at >= nextAttemptAt()) void attempt().catch(() => {});
      return snapshot(current);
    },

    async refreshNow() {
      if (inFlight === undefined && now() < nextAttemptAt()) return;
      await attempt().catch(() => {});
    },

    stats() {
      return { ...counts, consecutiveFailures };
    },

    async stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await inFlight?.catch(() => {});
    },
  };
}

function snapshot(held: Held): CredentialsSnapshot {
  return { credentials: held.credentials, obtainedAt: held.obtainedAt };
}

/** SignerError messages are secret-free by rule; anything else is reduced to its class. */
function describe(error: unknown): string {
  if (isSignerError(error)) return error.message;
  if (error instanceof Error) return `${error.name}`;
  return 'unknown error';
}
