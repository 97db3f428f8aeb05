import type { DebugLog } from '../debug.js';
import type { IdentityOptions } from '../keys/identity.js';
import type { HttpSend } from '../rolesanywhere/http.js';
import { prepareSession, type SessionOptions } from '../rolesanywhere/session.js';
import { obtainCredentialsOnce } from '../credentials/obtain.js';
import { createCredentialSource } from '../credentials/provider.js';
import type { Refresher } from '../credentials/refresher.js';
import type { Credentials } from '../credentials/types.js';
import { createServiceRefresher, startOrRelease, type RefreshTuning } from '../credentials/service-refresher.js';
import { writeProfileCredentials } from './write-file.js';

export interface UpdateOptions {
  readonly identity: IdentityOptions;
  readonly session: SessionOptions;
  /** --profile; default "default". */
  readonly profile: string;
  /** The credentials file (see credentialsFilePath). */
  readonly path: string;
}

export interface UpdateDeps extends RefreshTuning {
  readonly log: (line: string) => void;
  readonly debug: DebugLog;
  readonly clock?: () => Date;
  readonly send?: HttpSend;
}

/** `update --once`: one CreateSession, one write, key closed. Returns the file written. */
export async function updateOnce(options: UpdateOptions, deps: UpdateDeps): Promise<{ path: string; credentials: Credentials }> {
  const credentials = await obtainCredentialsOnce({
    identity: options.identity,
    session: options.session,
    debug: deps.debug,
    ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
    ...(deps.send !== undefined ? { send: deps.send } : {}),
  });
  const path = await writeProfileCredentials({ path: options.path, profile: options.profile, credentials });
  return { path, credentials };
}

/**
 * Credentials that could not be written are retried as they are, without another signature,
 * while more than this is left; closer to expiry a fresh set is worth the signature.
 */
const UNWRITTEN_REUSE_MIN_MS = 5 * 60_000;

export interface RunningUpdate {
  readonly refresher: Refresher;
  close(): Promise<void>;
}

/**
 * `update` without --once: writes at start (failing fast), then rewrites the profile before
 * each expiry with the key held open. A write that fails is retried with the credentials
 * already obtained, so a full disk or a held lock does not cost another signature.
 */
export async function startUpdateLoop(options: UpdateOptions, deps: UpdateDeps): Promise<RunningUpdate> {
  const clock = deps.clock ?? (() => new Date());
  const session = prepareSession(options.session, deps.send);
  const source = createCredentialSource({ identity: options.identity, session, clock, debug: deps.debug });
  let unwritten: Credentials | undefined;

  const fetchAndWrite = async (): Promise<Credentials> => {
    const reusable = unwritten !== undefined && unwritten.expiration.getTime() - clock().getTime() > UNWRITTEN_REUSE_MIN_MS ? unwritten : undefined;
    const credentials = reusable ?? (await source.fetch());
    try {
      const path = await writeProfileCredentials({ path: options.path, profile: options.profile, credentials });
      unwritten = undefined;
      deps.debug(`wrote profile ${options.profile} in ${path}`);
      return credentials;
    } catch (error) {
      unwritten = credentials;
      throw error;
    }
  };

  const refresher = createServiceRefresher({
    fetch: fetchAndWrite,
    clock,
    tuning: deps,
    log: deps.log,
    keeping: `${options.path} keeps the last good credentials`,
    empty: `the credentials in ${options.path} have expired`,
  });
  const close = async () => {
    await refresher.stop();
    await source.close();
  };
  await startOrRelease(() => refresher.start(), close);
  return { refresher, close };
}
