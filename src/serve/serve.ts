import { randomBytes } from 'node:crypto';
import type { DebugLog } from '../debug.js';
import type { IdentityOptions } from '../keys/identity.js';
import { requireHopLimitSupport, type NativeLoad } from '../native.js';
import { parseArn } from '../rolesanywhere/arn.js';
import type { HttpSend } from '../rolesanywhere/http.js';
import { prepareSession, type SessionOptions } from '../rolesanywhere/session.js';
import { createCredentialSource } from '../credentials/provider.js';
import type { Refresher } from '../credentials/refresher.js';
import { createAuthorizationCheck, fixedTokenDigest, tokenFileDigest } from './authorization.js';
import { planBind } from './bind.js';
import { CONTAINER_PATH, createContainerHandler } from './container.js';
import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { createImdsHandler } from './imds.js';
import { createServiceRefresher, startOrRelease, type RefreshTuning } from '../credentials/service-refresher.js';
import { createContainerTokenFile } from './token-file.js';
import { createTokenStore } from './token-store.js';
import type { ServeHandler } from './types.js';

/** Where the container endpoint's Authorization token comes from. */
export type ContainerTokenSource =
  /** A file (read, and re-read when rotated); created with a random token when missing. */
  | { readonly kind: 'file'; readonly path: string }
  /** A value the caller holds (AWS_CONTAINER_AUTHORIZATION_TOKEN); the caller zeroes it. */
  | { readonly kind: 'value'; readonly token: Buffer }
  /** A random token made now and shown once in the exports. */
  | { readonly kind: 'generate' };

export interface ServeOptions {
  readonly identity: IdentityOptions;
  readonly session: SessionOptions;
  /** IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT) or the container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI). */
  readonly mode: 'imds' | 'container';
  readonly bind: string;
  readonly port: number;
  readonly hopLimit: number;
  readonly allowNonLoopback: boolean;
  readonly containerToken?: ContainerTokenSource;
}

export interface ServeDeps extends RefreshTuning {
  readonly native: NativeLoad;
  /** Lines for the operator (stderr): start-up, refreshes, failures. Never secrets. */
  readonly log: (line: string) => void;
  readonly debug: DebugLog;
  readonly clock?: () => Date;
  readonly send?: HttpSend;
}

export interface RunningService {
  /** Base URL, e.g. http://127.0.0.1:9911/ */
  readonly url: string;
  readonly port: number;
  /** Shell lines that point an SDK at this endpoint (stdout). */
  readonly exports: readonly string[];
  readonly refresher: Refresher;
  close(): Promise<void>;
}

/**
 * Starts `serve`: checks every flag, listens (so a busy port is reported before a PIN is asked
 * for), opens the key once, fetches the first credentials (failing fast), and then answers
 * from memory while refreshing in the background.
 */
export async function startCredentialService(options: ServeOptions, deps: ServeDeps): Promise<RunningService> {
  const clock = deps.clock ?? (() => new Date());
  const bind = planBind(options.bind, { allowNonLoopback: options.allowNonLoopback, hopLimit: options.hopLimit });
  requireHopLimitSupport(deps.native, options.hopLimit);
  const addon = deps.native.addon;
  const session = prepareSession(options.session, deps.send);
  const role = parseArn(options.session.roleArn, 'role');
  const roleName = role.resource.split('/').pop() ?? role.resource;

  // Set exactly in container mode: the handler and the export lines follow from it.
  const token = options.mode === 'container' ? await prepareContainerToken(options.containerToken ?? { kind: 'generate' }, clock, deps.log) : undefined;

  const source = createCredentialSource({ identity: options.identity, session, clock, debug: deps.debug });
  const refresher = createServiceRefresher({
    fetch: () => source.fetch(),
    clock,
    tuning: deps,
    log: deps.log,
    keeping: 'serving the last good credentials',
    empty: 'no valid credentials to serve (answering 500)',
  });
  const credentials = () => refresher.get();
  // Usable credentials in memory are answered at once (a due refresh starts in the background,
  // as with get()); only a request finding none waits for (or starts) a refresh.
  const current = () => refresher.getNow();

  const handler: ServeHandler = token === undefined
    ? createImdsHandler({ tokens: createTokenStore({ now: deps.clock === undefined ? Date.now : () => clock().getTime() }), credentials, current, roleName, accountId: role.accountId })
    : createContainerHandler({ path: CONTAINER_PATH, authorize: createAuthorizationCheck(token.digest), credentials, current, roleArn: role.arn, accountId: role.accountId });

  const server: RunningHttpServer = await startHttpServer({
    bind,
    port: options.port,
    handler,
    ...(addon !== undefined ? { hopLimit: { hops: options.hopLimit, addon } } : {}),
    debug: deps.debug,
    log: deps.log,
  });

  const close = async () => {
    await server.close();
    await refresher.stop();
    await source.close();
  };
  await startOrRelease(() => refresher.start(), close);

  const exports = token === undefined
    ? [`export AWS_EC2_METADATA_SERVICE_ENDPOINT=${server.url}`]
    : [`export AWS_CONTAINER_CREDENTIALS_FULL_URI=${server.url}${CONTAINER_PATH.slice(1)}`, ...token.exports];
  deps.log(`serving ${options.mode === 'imds' ? 'IMDSv2' : 'container'} credentials for ${role.arn} on ${server.url}${addon !== undefined ? ` (hop limit ${options.hopLimit})` : ''}`);
  return { url: server.url, port: server.port, exports, refresher, close };
}

interface PreparedToken {
  readonly digest: () => Buffer | undefined;
  readonly exports: readonly string[];
}

async function prepareContainerToken(source: ContainerTokenSource, clock: () => Date, warn: (line: string) => void): Promise<PreparedToken> {
  switch (source.kind) {
    case 'file': {
      await createContainerTokenFile(source.path);
      return { digest: tokenFileDigest({ path: source.path, clock, warn }), exports: [`export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${shellQuote(source.path)}`] };
    }
    case 'value':
      return { digest: fixedTokenDigest(source.token), exports: ['# the token is the AWS_CONTAINER_AUTHORIZATION_TOKEN this server was started with'] };
    case 'generate': {
      const token = randomBytes(32).toString('base64url');
      // Shown once, on stdout only, as ssh-agent shows its socket: the caller asked for it.
      return { digest: fixedTokenDigest(Buffer.from(token)), exports: [`export AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}`] };
    }
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
