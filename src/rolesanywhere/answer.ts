import { SignerError } from '../errors.js';
import type { Credentials } from './credentials.js';

/**
 * The one check of a CreateSession 201 answer, shared by credential-process, serve, update and
 * the SDK provider (they all come through createSession). Nothing the server sent is trusted
 * until it has the documented shape, an ISO-8601 UTC expiration that is far enough ahead, and
 * credential values that are printable ASCII: a CR/LF in a token would split the
 * credential_process JSON consumer's header or the credentials file's line, and a date such as
 * "1" or "-000001-01-01T00:00:00Z" parses in JavaScript but means nothing.
 */

/**
 * The shortest lifetime CreateSession can grant is 900 s, and requests signed more than 5
 * minutes off the service's clock are refused; so an answer with less than 5 minutes left is
 * not a fresh session (a replay, a broken endpoint, or this machine's clock far ahead).
 */
export const MIN_ANSWER_REMAINING_MS = 5 * 60_000;

const ISO_8601_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|\+00:00)$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

const LIMITS = {
  accessKeyId: 128,
  secretAccessKey: 1024,
  // STS session tokens are about 1-2 KB; leave room, but not for megabytes.
  sessionToken: 64 * 1024,
} as const;

export interface AnswerContext {
  /** Where the answer came from, for messages: `https://host/sessions`. */
  readonly target: string;
  readonly now: Date;
}

export function parseCreateSessionAnswer(body: string, context: AnswerContext): Credentials {
  const bad = (why: string, hint = 'check that --endpoint points at IAM Roles Anywhere'): never => {
    throw new SignerError('CREATE_SESSION_BAD_RESPONSE', `${context.target} answered 201 but ${why}: ${hint}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return bad('the body is not JSON');
  }
  if (!isRecord(parsed)) return bad('the body is not a JSON object');
  const set = parsed['credentialSet'];
  if (!Array.isArray(set) || set.length === 0) return bad('without a credentialSet');
  const first: unknown = set[0];
  if (!isRecord(first)) return bad('with a credentialSet entry that is not an object');
  const credentials = first['credentials'];
  if (!isRecord(credentials)) return bad('without credentials');
  const accessKeyId = credentialValue(credentials, 'accessKeyId', bad);
  const secretAccessKey = credentialValue(credentials, 'secretAccessKey', bad);
  const sessionToken = credentialValue(credentials, 'sessionToken', bad);
  const expiration = parseExpiration(credentials['expiration'], bad);
  const remaining = expiration.getTime() - context.now.getTime();
  if (remaining < MIN_ANSWER_REMAINING_MS) {
    const when = remaining <= 0 ? 'already past' : 'less than 5 minutes from now';
    bad(`with credentials that expire at ${expiration.toISOString()}, ${when} (this machine says ${context.now.toISOString()})`, "check this machine's clock and that --endpoint points at IAM Roles Anywhere");
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

function credentialValue(credentials: Record<string, unknown>, name: keyof typeof LIMITS, bad: (why: string) => never): string {
  const value = credentials[name];
  const article = name === 'accessKeyId' ? 'an' : 'a';
  if (typeof value !== 'string' || value === '') return bad(`without ${article} ${name}`);
  // Never quote the value: it may be a secret.
  if (value.length > LIMITS[name] || !PRINTABLE_ASCII.test(value)) return bad(`with ${article} ${name} that is not printable ASCII of at most ${LIMITS[name]} characters`);
  return value;
}

function parseExpiration(value: unknown, bad: (why: string) => never): Date {
  if (typeof value !== 'string') return bad('without an expiration');
  const match = ISO_8601_UTC.exec(value);
  if (match === null) return bad('with an expiration that is not an ISO-8601 UTC date (YYYY-MM-DDThh:mm:ssZ)');
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  date.setUTCMilliseconds(Math.floor(Number(`0${match[7] ?? ''}`) * 1000));
  // Date.UTC rolls 2026-02-30 over into March: a date that does not exist is refused instead.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return bad('with an expiration that is not an ISO-8601 UTC date (YYYY-MM-DDThh:mm:ssZ)');
  }
  return date;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
