import { formatExpiration } from '../credentials/types.js';
import type { CredentialsSnapshot } from '../credentials/refresher.js';
import { describeUnavailable } from './unavailable.js';
import type { TokenStore } from './token-store.js';
import { hasHeader, headerValue, json, jsonBody, pathOf, renderedOncePerCredentials, text, type ServeHandler, type ServeRequest, type ServeResponse } from './types.js';

/**
 * An IMDSv2 endpoint as the AWS SDKs use it (ARCHITECTURE.md, "Protocol facts"): a session token from
 * `PUT /latest/api/token`, then the role name and the role's credentials, from both the classic
 * `security-credentials/` tree and the newer `security-credentials-extended/` tree (which adds
 * AccountId). IMDSv1 (no token) is refused with 401, as on an instance that requires IMDSv2.
 */
export interface ImdsOptions {
  readonly tokens: TokenStore;
  readonly credentials: () => Promise<CredentialsSnapshot>;
  /** Usable credentials in memory, without waiting (the refresher's getNow()); else `credentials` is awaited. */
  readonly current?: () => CredentialsSnapshot | undefined;
  /** The role's name (last path segment of the role ARN), listed as the instance profile role. */
  readonly roleName: string;
  readonly accountId: string;
}

const TOKEN_PATH = '/latest/api/token';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const MAX_TOKEN_TTL_SECONDS = 21_600;

const CREDENTIALS_TREES = ['/latest/meta-data/iam/security-credentials', '/latest/meta-data/iam/security-credentials-extended'] as const;

/** What a path names; the table of paths is built once, so a request costs one lookup. */
type Route = { readonly kind: 'token' } | { readonly kind: 'role-list' } | { readonly kind: 'credentials'; readonly extended: boolean };

function routesFor(roleName: string): ReadonlyMap<string, Route> {
  const routes = new Map<string, Route>();
  const both = (path: string, route: Route): void => {
    routes.set(path, route);
    routes.set(`${path}/`, route);
  };
  both(TOKEN_PATH, { kind: 'token' });
  for (const tree of CREDENTIALS_TREES) {
    both(tree, { kind: 'role-list' });
    both(`${tree}/${roleName}`, { kind: 'credentials', extended: tree.endsWith('-extended') });
  }
  return routes;
}

export function createImdsHandler(options: ImdsOptions): ServeHandler {
  const bodies = renderedOncePerCredentials((snapshot) => ({ classic: credentialsBody(snapshot, undefined), extended: credentialsBody(snapshot, options.accountId) }));
  const routes = routesFor(options.roleName);
  return (request) => {
    const path = pathOf(request);
    const route = routes.get(path);
    if (route?.kind === 'token') return issueToken(request, options.tokens);
    if (!path.startsWith('/latest/meta-data/')) return text(404, 'Not Found');
    if (request.method !== 'GET') return text(405, 'Method Not Allowed', { allow: 'GET' });

    const token = headerValue(request, TOKEN_HEADER);
    if (token === undefined || token === '') return text(401, 'Unauthorized: request a token with PUT /latest/api/token and send it in X-aws-ec2-metadata-token');
    const ttlLeft = options.tokens.check(token);
    if (ttlLeft === undefined) return text(401, 'Unauthorized: the session token is unknown or expired');
    const ttl = String(ttlLeft);

    if (route?.kind === 'role-list') return text(200, options.roleName, { [TOKEN_TTL_HEADER]: ttl });
    if (route?.kind === 'credentials') return credentialsResponse(options, bodies, route.extended, ttl);
    return text(404, 'Not Found', { [TOKEN_TTL_HEADER]: ttl });
  };
}

function issueToken(request: ServeRequest, tokens: TokenStore): ServeResponse {
  if (request.method !== 'PUT') return text(405, 'Method Not Allowed', { allow: 'PUT' });
  // A proxy in front of this endpoint would hand tokens to whoever reaches the proxy.
  if (hasHeader(request, 'x-forwarded-for')) return text(400, 'Bad Request: requests with an X-Forwarded-For header are refused');
  const ttl = headerValue(request, TOKEN_TTL_HEADER);
  if (ttl === undefined || !/^\d{1,5}$/.test(ttl.trim())) {
    return text(400, `Bad Request: send ${TOKEN_TTL_HEADER} with a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  const seconds = Number.parseInt(ttl.trim(), 10);
  if (seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) {
    return text(400, `Bad Request: ${TOKEN_TTL_HEADER} must be from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  return text(200, tokens.issue(seconds), { [TOKEN_TTL_HEADER]: String(seconds) });
}

function credentialsResponse(options: ImdsOptions, bodies: (snapshot: CredentialsSnapshot) => ImdsBodies, extended: boolean, ttl: string): ServeResponse | Promise<ServeResponse> {
  const answer = (snapshot: CredentialsSnapshot): ServeResponse => {
    const rendered = bodies(snapshot);
    const body = extended ? rendered.extended : rendered.classic;
    // One literal per answer (the TTL changes every second): no spreading, the length known.
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', [TOKEN_TTL_HEADER]: ttl, 'content-length': String(body.byteLength) },
      body,
    };
  };
  const current = options.current?.();
  if (current !== undefined) return answer(current);
  return options.credentials().then(answer, (error: unknown) => json(500, { Code: 'CredentialsUnavailable', Message: describeUnavailable(error) }, { [TOKEN_TTL_HEADER]: ttl }));
}

/** Encoded once per set of credentials, not on every answer. */
interface ImdsBodies {
  readonly classic: Buffer;
  readonly extended: Buffer;
}

function credentialsBody(snapshot: CredentialsSnapshot, accountId: string | undefined): Buffer {
  const { credentials, obtainedAt } = snapshot;
  return Buffer.from(jsonBody({
    Code: 'Success',
    LastUpdated: formatExpiration(obtainedAt),
    Type: 'AWS-HMAC',
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: formatExpiration(credentials.expiration),
    ...(accountId !== undefined ? { AccountId: accountId } : {}),
  }));
}
