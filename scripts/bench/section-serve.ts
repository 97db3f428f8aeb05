import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SignerError } from '../../src/errors.js';
import { describeError, fileKeyWorld, skipped, type Section } from './context.js';
import { firstLine, isolatedEnv, startBackground } from './processes.js';
import type { Figure } from './report.js';
import { formatNumber, round3 } from './stats.js';
import { ROLE_NAME } from './world.js';

const CONNECTIONS = 64;
const DURATION_S = 10;
const WARMUP_S = 2;
const TOKEN_TTL_SECONDS = 21_600;

/** The part of autocannon's API and result the bench uses (it ships no type declarations). */
export interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly average: number; readonly p50: number; readonly p99: number; readonly max: number };
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
}
export type Autocannon = (
  options: Record<string, unknown>,
  done: (error: Error | null, result: AutocannonResult) => void,
) => { stop(): void };

/**
 * `serve` under load: autocannon with 64 connections on the IMDSv2 credentials path (with a
 * session token, as SDKs ask), requests/s and latency percentiles, and the resident memory of
 * the serve process idle and at its peak.
 */
export const serveSection: Section = {
  id: 'serve',
  title: 'serve (IMDSv2) under load',
  estimateMs: 25_000,
  async run(context) {
    let autocannon: Autocannon;
    try {
      // createRequire: autocannon is CommonJS and untyped; the interface above is all we rely on.
      autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    } catch (error) {
      return skipped(`autocannon is not installed (npm ci installs the devDependencies): ${describeError(error)}`);
    }
    const { flags } = await fileKeyWorld(context, 'serve-ec-p256');
    const serve = startBackground(process.execPath, [context.cliPath, 'serve', ...flags, '--port', '0'], { env: isolatedEnv(), cleanup: context.cleanup });
    let base: string;
    try {
      const line = await serve.waitForLine(/AWS_EC2_METADATA_SERVICE_ENDPOINT=\S+/, 30_000);
      base = (/AWS_EC2_METADATA_SERVICE_ENDPOINT=(\S+)/.exec(line)?.[1] ?? '').replace(/\/?$/, '/');
    } catch (error) {
      await serve.stop();
      return skipped(`serve did not start: ${describeError(error)}`);
    }
    const origin = new URL(base);
    if (origin.hostname !== '127.0.0.1') {
      await serve.stop();
      throw new SignerError('INTERNAL', `serve listens on ${origin.hostname}, not 127.0.0.1; the bench only sends traffic to 127.0.0.1`);
    }

    try {
      const tokenResponse = await fetch(new URL('latest/api/token', base), {
        method: 'PUT',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
        signal: AbortSignal.timeout(5000),
      });
      if (tokenResponse.status !== 200) throw new SignerError('INTERNAL', `PUT /latest/api/token answered ${tokenResponse.status}`);
      const token = await tokenResponse.text();
      const credentialsUrl = new URL(`latest/meta-data/iam/security-credentials/${ROLE_NAME}`, base);
      const check = await fetch(credentialsUrl, { headers: { 'x-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(5000) });
      // The body holds a secret key: only its Code field is looked at.
      const body = (await check.json()) as { Code?: unknown };
      if (check.status !== 200 || body.Code !== 'Success') throw new SignerError('INTERNAL', `GET ${credentialsUrl.pathname} answered ${check.status} without Code Success: serve has no credentials`);

      const idle = residentMemory(serve.pid);
      context.progress(`serve: autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s`);
      const result = await runAutocannon(autocannon, {
        url: credentialsUrl.href,
        connections: CONNECTIONS,
        duration: DURATION_S,
        warmup: { connections: CONNECTIONS, duration: WARMUP_S },
        headers: { 'x-aws-ec2-metadata-token': token },
        timeout: 10,
      });
      const loaded = residentMemory(serve.pid);
      if (result['2xx'] === 0) throw new SignerError('INTERNAL', `no 2xx answer under load (${result.non2xx} non-2xx, ${result.errors} errors)`);
      const problems = result.non2xx + result.errors + result.timeouts;

      const figures: Figure[] = [
        {
          id: 'serve.imds.requests-per-second',
          label: `GET .../security-credentials/<role>, ${CONNECTIONS} connections, ${DURATION_S} s`,
          result: `${formatNumber(result.requests.average)} req/s, p99 ${formatNumber(result.latency.p99)} ms, p50 ${formatNumber(result.latency.p50)} ms`,
          note: problems === 0 ? `${result['2xx']} answers, all 200` : `${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result['2xx'] + result.non2xx}`,
          data: {
            requestsPerSecond: round3(result.requests.average),
            requestsTotal: result.requests.total,
            latencyP50Ms: result.latency.p50,
            latencyP99Ms: result.latency.p99,
            latencyMeanMs: round3(result.latency.average),
            latencyMaxMs: result.latency.max,
            connections: CONNECTIONS,
            durationS: result.duration,
            ok2xx: result['2xx'],
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
          },
        },
      ];
      if (idle !== undefined && loaded !== undefined) {
        figures.push({
          id: 'serve.rss',
          label: 'resident memory of the serve process',
          result: `${mib(idle.rssKiB)} MiB idle, ${mib(loaded.rssKiB)} MiB after load, peak ${mib(loaded.peakKiB)} MiB`,
          note: 'VmRSS / VmHWM from /proc/<pid>/status',
          data: { idleRssKiB: idle.rssKiB, loadedRssKiB: loaded.rssKiB, peakRssKiB: loaded.peakKiB },
        });
      }
      return {
        status: 'ran',
        figures,
        notes: [
          'autocannon runs inside the bench process on the same machine: on 2 cores, load generator and server share the CPU, so the rate is a floor',
          `one IMDSv2 token (TTL ${TOKEN_TTL_SECONDS} s) reused by every connection; credentials come from memory (no CreateSession during the run)`,
          ...(idle === undefined ? ['resident memory not measured: /proc/<pid>/status is not readable here (Linux only)'] : []),
        ],
      };
    } catch (error) {
      throw new SignerError('INTERNAL', `${describeError(error)}; serve said: ${firstLine(serve.stderr())}`, { cause: error });
    } finally {
      await serve.stop();
    }
  },
};

/** autocannon with a hard stop: it ends by itself after warm-up + duration, or we stop it. */
export function runAutocannon(autocannon: Autocannon, options: Record<string, unknown>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    let guard: NodeJS.Timeout | undefined;
    const instance = autocannon(options, (error, result) => {
      clearTimeout(guard);
      if (error) reject(error);
      else resolve(result);
    });
    guard = setTimeout(() => instance.stop(), (WARMUP_S + DURATION_S + 15) * 1000);
  });
}

export function residentMemory(pid: number): { rssKiB: number; peakKiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number | undefined => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return match?.[1] === undefined ? undefined : Number(match[1]);
    };
    const rssKiB = field('VmRSS');
    const peakKiB = field('VmHWM');
    return rssKiB === undefined || peakKiB === undefined ? undefined : { rssKiB, peakKiB };
  } catch {
    return undefined;
  }
}

export function mib(kib: number): string {
  return formatNumber(kib / 1024);
}
