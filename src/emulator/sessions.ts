/**
 * Credentials the emulator issued, held in memory until they expire, so the STS stub can verify
 * requests signed with them. Secrets live only here and in the CreateSession response body.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAt: Date;
  readonly roleArn: string;
  /** arn:<partition>:sts::<account>:assumed-role/<role name>/<session name> */
  readonly assumedRoleArn: string;
  /** <role id>:<session name>, what STS calls UserId. */
  readonly assumedRoleId: string;
  readonly accountId: string;
}

export interface NewSession {
  readonly partition: string;
  readonly accountId: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly expiresAt: Date;
}

export interface SessionStore {
  issue(session: NewSession, now: Date): IssuedSession;
  find(accessKeyId: string): IssuedSession | undefined;
  readonly size: number;
}

/** Upper-case base32, the alphabet of real access key ids. */
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function createSessionStore(random: (size: number) => Uint8Array = randomBytes): SessionStore {
  const sessions = new Map<string, IssuedSession>();

  function pruneExpired(now: Date): void {
    for (const [accessKeyId, session] of sessions) {
      if (session.expiresAt.getTime() <= now.getTime()) sessions.delete(accessKeyId);
    }
  }

  return {
    issue(request: NewSession, now: Date): IssuedSession {
      // Pruning on issue keeps memory bounded under load without a timer to clean up.
      pruneExpired(now);
      const roleId = roleIdFor(request.roleArn);
      const session: IssuedSession = {
        // ASIA marks temporary credentials, as STS does.
        accessKeyId: `ASIA${base32(random(10))}`,
        secretAccessKey: Buffer.from(random(30)).toString('base64'),
        sessionToken: Buffer.from(random(96)).toString('base64'),
        expiresAt: request.expiresAt,
        roleArn: request.roleArn,
        assumedRoleArn: `arn:${request.partition}:sts::${request.accountId}:assumed-role/${request.roleName}/${request.sessionName}`,
        assumedRoleId: `${roleId}:${request.sessionName}`,
        accountId: request.accountId,
      };
      sessions.set(session.accessKeyId, session);
      return session;
    },
    find(accessKeyId: string): IssuedSession | undefined {
      return sessions.get(accessKeyId);
    },
    get size(): number {
      return sessions.size;
    },
  };
}

/** A stable AROA... id per role ARN, so repeated sessions of one role share it as in IAM. */
function roleIdFor(roleArn: string): string {
  return `AROA${base32(createHash('sha256').update(roleArn).digest().subarray(0, 10))}`;
}

/** 10 bytes -> 16 base32 characters. */
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    // Only the low bits still to be emitted matter; masking keeps the number small.
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      output += KEY_ID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += KEY_ID_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}
