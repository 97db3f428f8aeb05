import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { encodeQuery } from '../../src/sigv4x509/encode-query.js';
import type { SignedRequest, SigningRequest } from '../../src/sigv4x509/types.js';
import { repoRoot } from './paths.js';

/** A request as a server sees it: raw query string, headers in any case. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  /** Raw query string without `?`, as on the wire. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** X-Amz-Date form; when given, the verifier also checks a 5 minute clock skew. */
  readonly now?: string;
}

export interface IndependentVerdict {
  readonly valid: boolean;
  /** "valid", or the verifier's reason, e.g. "invalid: signature does not verify ...". */
  readonly reason: string;
}

/** What `--canonicalize` prints (used by scripts/make-vectors.ts to produce expected values). */
export interface IndependentCanonicalForm {
  readonly algorithm: string;
  readonly serialDecimal: string;
  readonly credentialScope: string;
  readonly signedHeaders: string;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

export const independentVerifierPath = join(repoRoot, 'test', 'helpers', 'independent-verify.py');

/**
 * Verifies a SigV4-X509 request with test/helpers/independent-verify.py: its own
 * canonicalization (Python, written from the AWS documentation) and `openssl` for the signature.
 */
export async function verifyIndependently(request: CapturedRequest): Promise<IndependentVerdict> {
  const { code, stdout } = await runVerifier(['--verify'], request);
  return { valid: code === 0, reason: stdout.trim() };
}

/** The verifier's canonical request and string to sign, signing every header but authorization/user-agent. */
export async function canonicalizeIndependently(
  request: CapturedRequest & { readonly region: string; readonly service?: string },
): Promise<IndependentCanonicalForm> {
  const { code, stdout } = await runVerifier(['--canonicalize'], request);
  if (code !== 0) throw new Error(`independent-verify.py --canonicalize failed: ${stdout.trim()}`);
  return JSON.parse(stdout) as IndependentCanonicalForm;
}

/** The request signRequest produced, as the server will receive it. */
export function capturedFrom(request: SigningRequest, signed: SignedRequest): CapturedRequest {
  return { method: request.method, path: request.path, query: encodeQuery(request.query), headers: signed.headers, body: request.body };
}

function runVerifier(args: readonly string[], input: unknown): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [independentVerifierPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      // Exit 2 means the test handed over unusable input: a bug in the test, not a verdict.
      if (code !== 0 && code !== 1) reject(new Error(`independent-verify.py exited ${String(code)}: ${stderr.trim()}`));
      else resolve({ code, stdout });
    });
    child.stdin.end(JSON.stringify(input));
  });
}
