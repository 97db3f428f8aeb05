import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import { describeError, fileKeyWorld, skipped, type Section } from './context.js';
import { firstLine, isolatedEnv, startBackground } from './processes.js';
import type { Figure } from './report.js';
import { formatNumber, round3 } from './stats.js';
import { ROLE_NAME } from './world.js';

const CONNECTIONS = 64;
const DURATION_S = 3;
const WARMUP_S = 1;
// serve and the floor server alternate, so both see the same machine load (it is shared).
const ROUNDS = 4;
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
 * `serve` under load, beside a floor: a bare node:http server (floor-server.ts) returning the
 * same body. autocannon with 64 connections runs two workloads on each, alternating server by
 * server for several rounds: GET of the IMDSv2 credentials with a session token (as SDKs ask,
 * reusing the token), and PUT of a token then GET with it (an SDK client that starts anew each
 * time). Figures: requests/s and p99 as ratios to the floor of the same run, and the resident
 * memory of both processes idle and after the load.
 */
export const serveSection: Section = {
  id: 'serve',
  title: 'serve (IMDSv2) under load, beside a bare node:http server',
  estimateMs: 60_000,
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

    let floor: ReturnType<typeof startBackground> | undefined;
    try {
      const tokenResponse = await fetch(new URL('latest/api/token', base), {
        method: 'PUT',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
        signal: AbortSignal.timeout(5000),
      });
      if (tokenResponse.status !== 200) throw new SignerError('INTERNAL', `PUT /latest/api/token answered ${tokenResponse.status}`);
      const token = await tokenResponse.text();
      const credentialsPath = `/latest/meta-data/iam/security-credentials/${ROLE_NAME}`;
      const check = await fetch(new URL(credentialsPath.slice(1), base), { headers: { 'x-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(5000) });
      const body = await check.text();
      // The body holds a (local, emulator-issued) secret key: only its Code field is looked at,
      // and it reaches the floor server through a private file, never a log.
      if (check.status !== 200 || (JSON.parse(body) as { Code?: unknown }).Code !== 'Success') throw new SignerError('INTERNAL', `GET ${credentialsPath} answered ${check.status} without Code Success: serve has no credentials`);
      const dir = join(context.scratchDir, 'serve-floor');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const bodyFile = join(dir, 'body.json');
      writeFileSync(bodyFile, body, { mode: 0o600 });
      floor = startBackground(process.execPath, [join(context.benchDir, 'floor-server.js'), bodyFile], { env: isolatedEnv(), cleanup: context.cleanup });
      const floorPort = /listening (\d+)/.exec(await floor.waitForLine(/^listening \d+$/, 10_000))?.[1] ?? '';
      const floorBase = `http://127.0.0.1:${floorPort}/`;

      const targets = { serve: { base, pid: serve.pid }, floor: { base: floorBase, pid: floor.pid } } as const;
      const idle = { serve: residentMemory(serve.pid), floor: residentMemory(floor.pid) };
      const workloads = {
        get: (target: string): Record<string, unknown> => ({ url: new URL(credentialsPath.slice(1), target).href, headers: { 'x-aws-ec2-metadata-token': token } }),
        putThenGet: (target: string): Record<string, unknown> => ({
          url: target,
          requests: [
            {
              method: 'PUT',
              path: '/latest/api/token',
              headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
              onResponse: (_status: number, responseBody: string, requestContext: Record<string, unknown>) => {
                requestContext['token'] = responseBody;
              },
            },
            {
              method: 'GET',
              path: credentialsPath,
              setupRequest: (request: { headers?: Record<string, string> }, requestContext: Record<string, unknown>) => ({
                ...request,
                headers: { ...request.headers, 'x-aws-ec2-metadata-token': String(requestContext['token'] ?? '') },
              }),
            },
          ],
        }),
      } as const;

      const runs: Record<'get' | 'putThenGet', Record<'serve' | 'floor', AutocannonResult[]>> = { get: { serve: [], floor: [] }, putThenGet: { serve: [], floor: [] } };
      // CPU time the server process spent per request: unlike req/s, it hardly moves with what
      // else the (shared) machine is doing.
      const cpu: Record<'get' | 'putThenGet', Record<'serve' | 'floor', { ms: number; requests: number }[]>> = { get: { serve: [], floor: [] }, putThenGet: { serve: [], floor: [] } };
      for (let round = 1; round <= ROUNDS; round++) {
        for (const workload of ['get', 'putThenGet'] as const) {
          const order: readonly ('serve' | 'floor')[] = round % 2 === 1 ? ['serve', 'floor'] : ['floor', 'serve'];
          for (const name of order) {
            context.progress(`serve: round ${round}/${ROUNDS}, ${workload === 'get' ? 'GET with a token' : 'PUT then GET'} on ${name}, ${CONNECTIONS} connections, ${WARMUP_S} s + ${DURATION_S} s`);
            const options = { ...workloads[workload](targets[name].base), connections: CONNECTIONS, timeout: 10 };
            await runAutocannon(autocannon, { ...options, duration: WARMUP_S });
            const cpuBefore = cpuTimeMs(targets[name].pid);
            const result = await runAutocannon(autocannon, { ...options, duration: DURATION_S });
            const cpuAfter = cpuTimeMs(targets[name].pid);
            if (result['2xx'] === 0) throw new SignerError('INTERNAL', `no 2xx answer from ${name} (${result.non2xx} non-2xx, ${result.errors} errors)`);
            runs[workload][name].push(result);
            if (cpuBefore !== undefined && cpuAfter !== undefined) cpu[workload][name].push({ ms: cpuAfter - cpuBefore, requests: result.requests.total });
          }
        }
      }
      const loaded = { serve: residentMemory(serve.pid), floor: residentMemory(floor.pid) };

      const figures: Figure[] = [];
      for (const workload of ['get', 'putThenGet'] as const) {
        const ours = summarize(runs[workload].serve);
        const bare = summarize(runs[workload].floor);
        const cpuPerRequestUs = (samples: { ms: number; requests: number }[]): number =>
          (1000 * samples.reduce((sum, sample) => sum + sample.ms, 0)) / Math.max(1, samples.reduce((sum, sample) => sum + sample.requests, 0));
        const ourCpu = cpuPerRequestUs(cpu[workload].serve);
        const bareCpu = cpuPerRequestUs(cpu[workload].floor);
        const label = workload === 'get'
          ? `GET .../security-credentials/<role> with a token, ${CONNECTIONS} connections`
          : `PUT /latest/api/token then GET with it, ${CONNECTIONS} connections`;
        figures.push({
          id: `serve.imds.${workload === 'get' ? 'get' : 'put-then-get'}`,
          label,
          result: `${round3(ours.rate / bare.rate)}x the floor's req/s (${formatNumber(ours.rate)} vs ${formatNumber(bare.rate)}), p99 ${formatNumber(ours.p99)} ms vs ${formatNumber(bare.p99)} ms; CPU per request ${formatNumber(ourCpu)} vs ${formatNumber(bareCpu)} us (${round3(ourCpu / bareCpu)}x)`,
          note: `${ROUNDS} alternating rounds of ${DURATION_S} s each; ${ours.problems === 0 ? 'every answer 200' : `${ours.problems} non-200/errors/timeouts from serve`}`,
          data: {
            ratioRequestsPerSecond: round3(ours.rate / bare.rate),
            serveRequestsPerSecond: round3(ours.rate),
            floorRequestsPerSecond: round3(bare.rate),
            serveP99Ms: ours.p99,
            floorP99Ms: bare.p99,
            serveP50Ms: ours.p50,
            floorP50Ms: bare.p50,
            serveProblems: ours.problems,
            serveCpuPerRequestUs: round3(ourCpu),
            floorCpuPerRequestUs: round3(bareCpu),
            ratioCpuPerRequest: round3(ourCpu / bareCpu),
            rounds: ROUNDS,
            connections: CONNECTIONS,
            durationS: DURATION_S,
          },
        });
      }
      if (idle.serve !== undefined && idle.floor !== undefined && loaded.serve !== undefined && loaded.floor !== undefined) {
        figures.push({
          id: 'serve.rss',
          label: 'resident memory, serve vs the floor server',
          result: `idle ${mib(idle.serve.rssKiB)} vs ${mib(idle.floor.rssKiB)} MiB (${round3(idle.serve.rssKiB / idle.floor.rssKiB)}x), peak under load ${mib(loaded.serve.peakKiB)} vs ${mib(loaded.floor.peakKiB)} MiB (${round3(loaded.serve.peakKiB / loaded.floor.peakKiB)}x)`,
          note: 'VmRSS (idle) and VmHWM (peak) from /proc/<pid>/status',
          data: {
            serveIdleRssKiB: idle.serve.rssKiB,
            floorIdleRssKiB: idle.floor.rssKiB,
            servePeakRssKiB: loaded.serve.peakKiB,
            floorPeakRssKiB: loaded.floor.peakKiB,
            idleRatio: round3(idle.serve.rssKiB / idle.floor.rssKiB),
            peakRatio: round3(loaded.serve.peakKiB / loaded.floor.peakKiB),
          },
        });
      }
      return {
        status: 'ran',
        figures,
        notes: [
          'autocannon runs inside the bench process on the same machine: load generator and servers share the CPU; the ratio to the floor, measured in the same run, is the figure to read',
          `GET: one IMDSv2 token (TTL ${TOKEN_TTL_SECONDS} s) reused by every connection; credentials come from memory (no CreateSession during the run)`,
          ...(idle.serve === undefined ? ['resident memory not measured: /proc/<pid>/status is not readable here (Linux only)'] : []),
        ],
      };
    } catch (error) {
      throw new SignerError('INTERNAL', `${describeError(error)}; serve said: ${firstLine(serve.stderr())}`, { cause: error });
    } finally {
      await floor?.stop();
      await serve.stop();
    }
  },
};

/** Requests/s over all rounds, and the median of the rounds' p50 and p99. */
function summarize(results: readonly AutocannonResult[]): { rate: number; p50: number; p99: number; problems: number } {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? NaN;
  };
  const total = results.reduce((sum, result) => sum + result.requests.total, 0);
  const seconds = results.reduce((sum, result) => sum + result.duration, 0);
  return {
    rate: total / seconds,
    p50: median(results.map((result) => result.latency.p50)),
    p99: median(results.map((result) => result.latency.p99)),
    problems: results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0),
  };
}

/** autocannon with a hard stop: it ends by itself after warm-up + duration, or we stop it. */
export function runAutocannon(autocannon: Autocannon, options: Record<string, unknown>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    let guard: NodeJS.Timeout | undefined;
    const instance = autocannon(options, (error, result) => {
      clearTimeout(guard);
      if (error) reject(error);
      else resolve(result);
    });
    guard = setTimeout(() => instance.stop(), (Number(options['duration'] ?? DURATION_S) + 15) * 1000);
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

/** utime + stime of a process, in ms (Linux /proc; USER_HZ is 100 on every Linux Node runs on). */
function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export function mib(kib: number): string {
  return formatNumber(kib / 1024);
}
