import type { IncomingMessage } from 'node:http';
import { SignerError } from '../errors.js';
import type { DebugLog } from '../debug.js';

/** The wire layer's view of HTTP: enough for CreateSession, easy to replace in tests. */
export interface HttpRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal: AbortSignal;
  /** Secret-free progress lines (which proxy, which CA bundle); default silent. */
  readonly debug?: DebugLog;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

export interface HttpOptions {
  /** --no-verify-ssl: accept any server certificate (for test endpoints only). */
  readonly insecureSkipVerify?: boolean;
  /** --with-proxy: honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment. */
  readonly useProxyFromEnvironment?: boolean;
  /** Where proxy and CA settings are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Responses larger than this are not CreateSession answers; stop reading instead of buffering. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Reads an answer up to MAX_RESPONSE_BYTES; a larger one is refused, not retried (it would be again). */
export function readCappedBody(response: IncomingMessage, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
      response.destroy();
      reject(tooLarge(target));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.destroy();
        reject(tooLarge(target));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('close', () => {
      // Ended early without 'end' (peer closed mid-body): not an answer to parse.
      if (!response.complete) reject(Object.assign(new Error('the answer ended before its body was complete'), { code: 'ECONNRESET' }));
    });
  });
}

function tooLarge(target: string): SignerError {
  return new SignerError('RESPONSE_TOO_LARGE', `${target} answered with more than 1 MiB, far more than any CreateSession answer: check that --endpoint points at IAM Roles Anywhere and that no proxy or portal answers in its place`);
}

export function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
