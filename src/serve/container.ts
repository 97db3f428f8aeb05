import { formatExpiration } from '../credentials/types.js';
import type { CredentialsSnapshot } from '../credentials/refresher.js';
import type { AuthorizationCheck } from './authorization.js';
import { describeUnavailable } from './unavailable.js';
import { hasHeader, headerValue, json, JSON_HEADERS, jsonBody, pathOf, renderedOncePerCredentials, type ServeHandler, type ServeResponse } from './types.js';

/**
 * The container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, as ECS and EKS Pod
 * Identity serve it): one GET path that answers the role's credentials to a caller presenting
 * the `Authorization` token (`AWS_CONTAINER_AUTHORIZATION_TOKEN` or `..._TOKEN_FILE`).
 */
export interface ContainerOptions {
  readonly path: string;
  readonly authorize: AuthorizationCheck;
  readonly credentials: () => Promise<CredentialsSnapshot>;
  /** Usable credentials in memory, without waiting (the refresher's getNow()); else `credentials` is awaited. */
  readonly current?: () => CredentialsSnapshot | undefined;
  readonly roleArn: string;
  readonly accountId: string;
}

export const CONTAINER_PATH = '/v1/credentials';

export function createContainerHandler(options: ContainerOptions): ServeHandler {
  const body = renderedOncePerCredentials(({ credentials }) => jsonBody({
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: formatExpiration(credentials.expiration),
    AccountId: options.accountId,
    RoleArn: options.roleArn,
  }));
  return (request) => {
    if (pathOf(request) !== options.path) return json(404, { code: 'NotFound', message: `no such path: credentials are served at ${options.path}` });
    if (request.method !== 'GET') return json(405, { code: 'MethodNotAllowed', message: 'use GET' }, { allow: 'GET' });
    if (hasHeader(request, 'x-forwarded-for')) return json(400, { code: 'BadRequest', message: 'requests with an X-Forwarded-For header are refused' });
    const presented = headerValue(request, 'authorization');
    if (presented === undefined || presented === '') {
      return json(401, { code: 'Unauthorized', message: 'missing Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE' });
    }
    if (!options.authorize(presented)) return json(401, { code: 'Unauthorized', message: 'the Authorization token does not match this endpoint\'s token' });
    const current = options.current?.();
    if (current !== undefined) return { status: 200, headers: JSON_HEADERS, body: body(current) };
    return options.credentials().then(
      (snapshot): ServeResponse => ({ status: 200, headers: JSON_HEADERS, body: body(snapshot) }),
      (error: unknown) => json(500, { code: 'CredentialsUnavailable', message: describeUnavailable(error) }),
    );
  };
}
