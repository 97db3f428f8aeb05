import { isSignerError } from '../errors.js';
import { createRefresher, type Refresher, type RefresherEvent, type RefresherOptions, type Timers } from './refresher.js';
import { formatExpiration, type Credentials } from './types.js';

/**
 * The background refresher of the long-running modes (serve, update) with one operator line
 * per outcome: shared by both, so it sits in credentials/, below them.
 */

/** One operator line per refresh outcome; `keeping`/`empty` say what clients get meanwhile. */
function logRefresherEvent(event: RefresherEvent, log: (line: string) => void, keeping: string, empty: string): void {
  switch (event.type) {
    case 'refreshed':
      log(`credentials refreshed: they expire at ${formatExpiration(event.expiration)}; next refresh at ${formatExpiration(event.refreshAt)}`);
      return;
    case 'refresh-failed': {
      const why = isSignerError(event.error) ? event.error.message : 'unexpected error';
      const meanwhile = event.servingUntil !== undefined ? `${keeping} until ${formatExpiration(event.servingUntil)}` : empty;
      log(`refresh failed (${why}); ${meanwhile}; next attempt at ${formatExpiration(event.retryAt)}`);
      return;
    }
    case 'scheduled':
      return;
  }
}

/** Test and tuning hooks of the long-running modes. */
export interface RefreshTuning {
  readonly timers?: Timers;
  readonly random?: () => number;
  readonly refresh?: Pick<RefresherOptions, 'refreshAheadMs' | 'jitterMs' | 'minIntervalMs' | 'maxBackoffMs' | 'usableMarginMs'>;
}

export interface ServiceRefresherOptions {
  readonly fetch: () => Promise<Credentials>;
  readonly clock: () => Date;
  readonly tuning: RefreshTuning;
  readonly log: (line: string) => void;
  /** What clients get after a failed refresh while the credentials are still valid. */
  readonly keeping: string;
  /** ... and once they are not. */
  readonly empty: string;
}

/**
 * The background refresher of `serve` and `update`, with one log line per outcome. Events of
 * the first fetch are not logged: its failure is the start-up error itself, which the caller
 * reports once.
 */
export function createServiceRefresher(options: ServiceRefresherOptions): Refresher {
  let started = false;
  const refresher = createRefresher({
    ...options.tuning.refresh,
    fetch: options.fetch,
    clock: options.clock,
    ...(options.tuning.timers !== undefined ? { timers: options.tuning.timers } : {}),
    ...(options.tuning.random !== undefined ? { random: options.tuning.random } : {}),
    background: true,
    onEvent: (event) => {
      if (started) logRefresherEvent(event, options.log, options.keeping, options.empty);
    },
  });
  return {
    ...refresher,
    async start() {
      const first = await refresher.start();
      started = true;
      return first;
    },
  };
}

/** Runs `start`; if it fails, releases what was set up (`close`) and rethrows. */
export async function startOrRelease(start: () => Promise<unknown>, close: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
