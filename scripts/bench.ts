/**
 * `npm run bench`: the project's benchmarks on this machine, all traffic on 127.0.0.1.
 *
 *   node dist/scripts/bench.js [--only cold,sign,mldsa,pkcs11,tpm,serve,cache,sea,reference] [--runs N] [--budget S] [--network-delay-ms MS] [--no-hyperfine] [--strict]
 *
 * Prints a table on stdout (progress on stderr) and writes bench-results/bench-<UTC>.json and
 * .md with the machine's details. A section whose tools or code are missing or broken is
 * reported as "skipped: <reason>" and the others still run; --strict turns any skip into exit 1.
 * Every loop is bounded in count and time, the whole run in time; everything started (emulators,
 * swtpm, serve, hyperfine, temp dirs) is stopped and removed on success, failure and Ctrl-C.
 * What each figure means: docs/benchmarks.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignerError } from '../src/errors.js';
import { cleanUpOnExit, createCleanup } from './bench/cleanup.js';
import { describeError, type BenchContext, type Section, type SectionOutcome } from './bench/context.js';
import { machineInfo, roundedLoadAverage } from './bench/machine.js';
import { renderTable, writeReport, type BenchReport, type SectionReport } from './bench/report.js';
import { cacheSection } from './bench/section-cache.js';
import { coldSection } from './bench/section-cold.js';
import { mlDsaSection } from './bench/section-mldsa.js';
import { pkcs11Section } from './bench/section-pkcs11.js';
import { seaSection } from './bench/section-sea.js';
import { referenceSection } from './bench/section-reference.js';
import { serveSection } from './bench/section-serve.js';
import { signSection } from './bench/section-sign.js';
import { tpmSection } from './bench/section-tpm.js';
import { describeWallTool, detectWallTool } from './bench/wall-time.js';
import { createBenchPki } from './bench/world.js';
import { buildRoot, cliPath, repoRoot } from './paths.js';

const SECTIONS: readonly Section[] = [coldSection, signSection, mlDsaSection, pkcs11Section, tpmSection, serveSection, cacheSection, seaSection, referenceSection];
// The bench itself; `npm run bench` adds the build (about 20-40 s here) to stay under 5 minutes.
const DEFAULT_BUDGET_S = 240;
const MAX_BUDGET_S = 280;
const DEFAULT_RUNS = 20;
const MIN_RUNS = 15;
const WARMUP_RUNS = 2;

interface BenchOptions {
  readonly only: readonly Section[];
  readonly runs: number;
  readonly forceLoop: boolean;
  readonly strict: boolean;
  readonly budgetMs: number;
  readonly networkDelayMs: number;
}

const OPTIONS = {
  only: { type: 'string' },
  runs: { type: 'string' },
  budget: { type: 'string' },
  'network-delay-ms': { type: 'string' },
  'no-hyperfine': { type: 'boolean' },
  strict: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS }).values;
  } catch (error) {
    throw new SignerError('USAGE', `${describeError(error)}: see --help`, { cause: error });
  }
}

function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = parseFlags(argv);
  if (values.help === true) {
    process.stdout.write(`usage: bench.js [--only ${SECTIONS.map((s) => s.id).join(',')}] [--runs N (>= ${MIN_RUNS}, default ${DEFAULT_RUNS})] [--budget SECONDS (default ${DEFAULT_BUDGET_S}, at most ${MAX_BUDGET_S})] [--network-delay-ms MS (default 0)] [--no-hyperfine] [--strict]\n`);
    return undefined;
  }
  const ids = values.only === undefined ? SECTIONS.map((section) => section.id) : values.only.split(',').map((id) => id.trim());
  const only = ids.map((id) => {
    const section = SECTIONS.find((candidate) => candidate.id === id);
    if (section === undefined) throw new SignerError('USAGE', `--only ${id}: no such section; use ${SECTIONS.map((s) => s.id).join(', ')}`);
    return section;
  });
  const runs = values.runs === undefined ? DEFAULT_RUNS : Number(values.runs);
  if (!Number.isInteger(runs) || runs < MIN_RUNS || runs > 200) {
    throw new SignerError('USAGE', `--runs ${values.runs ?? ''}: give a whole number from ${MIN_RUNS} (a p90 needs that many) to 200`);
  }
  const budgetS = values.budget === undefined ? DEFAULT_BUDGET_S : Number(values.budget);
  if (!Number.isInteger(budgetS) || budgetS < 1 || budgetS > MAX_BUDGET_S) {
    throw new SignerError('USAGE', `--budget ${values.budget ?? ''}: give whole seconds from 1 to ${MAX_BUDGET_S} (the bench stays under 5 minutes)`);
  }
  const networkDelayMs = values['network-delay-ms'] === undefined ? 0 : Number(values['network-delay-ms']);
  if (!Number.isInteger(networkDelayMs) || networkDelayMs < 0 || networkDelayMs > 1000) {
    throw new SignerError('USAGE', `--network-delay-ms ${values['network-delay-ms'] ?? ''}: give whole milliseconds from 0 to 1000 (a CreateSession round trip is tens of ms)`);
  }
  return { only, runs, forceLoop: values['no-hyperfine'] === true, strict: values.strict === true, budgetMs: budgetS * 1000, networkDelayMs };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === undefined) return 0;
  const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const cleanup = createCleanup();
  cleanUpOnExit(cleanup, (line) => void process.stderr.write(line));
  const startedAt = new Date();
  const deadline = Date.now() + options.budgetMs;
  const sections: SectionReport[] = [];
  let report: BenchReport | undefined;
  let overBudget = false;
  try {
    const scratchDir = await mkdtemp(join(tmpdir(), 'ras-bench-'));
    cleanup.defer('remove the scratch directory', () => rm(scratchDir, { recursive: true, force: true }));
    const machine = await machineInfo(repoRoot, cleanup, startedAt);
    const wallTool = await detectWallTool(cleanup, options.forceLoop);
    progress(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; CLI ${cliPath}`);
    progress(`process wall times: ${describeWallTool(wallTool)}`);
    const context: BenchContext = {
      cleanup,
      wallTool,
      scratchDir,
      pki: await createBenchPki(join(scratchDir, 'pki')),
      cliPath,
      benchDir: join(buildRoot, 'scripts', 'bench'),
      repoRoot,
      runs: options.runs,
      warmup: WARMUP_RUNS,
      networkDelayMs: options.networkDelayMs,
      progress,
    };

    for (const section of options.only) {
      if (cleanup.closed) break;
      const began = Date.now();
      let outcome: SectionOutcome | typeof OVER_BUDGET;
      if (overBudget || began + section.estimateMs > deadline) {
        outcome = { status: 'skipped', reason: `the ${options.budgetMs / 1000} s time budget has no room left for it (about ${Math.round(section.estimateMs / 1000)} s)` };
      } else {
        progress(`${section.id}: ${section.title}`);
        try {
          outcome = await withinBudget(section.run(context), deadline - Date.now());
        } catch (error) {
          outcome = { status: 'skipped', reason: `failed: ${describeError(error)}` };
        }
        if (outcome === OVER_BUDGET) {
          overBudget = true;
          outcome = { status: 'skipped', reason: `stopped: the ${options.budgetMs / 1000} s time budget ran out during it` };
        }
      }
      const elapsedS = Math.round((Date.now() - began) / 100) / 10;
      sections.push(
        outcome.status === 'ran'
          ? { id: section.id, title: section.title, status: 'ran', notes: outcome.notes, figures: outcome.figures, elapsedS }
          : { id: section.id, title: section.title, status: 'skipped', reason: outcome.reason, notes: [], figures: [], elapsedS },
      );
      progress(outcome.status === 'ran' ? `${section.id}: done in ${elapsedS} s` : `${section.id}: skipped: ${outcome.reason}`);
    }

    const finishedAt = new Date();
    report = {
      schema: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
      machine,
      loadAverageAtEnd: roundedLoadAverage(),
      wallTool: describeWallTool(wallTool),
      sections,
    };
  } finally {
    const failures = await cleanup.runAll();
    for (const failure of failures) progress(`cleanup: ${failure}`);
  }

  const m = report.machine;
  process.stdout.write(
    `\nroles-anywhere-signer benchmarks, ${m.date}\n` +
      `${m.cpuModel}, ${m.cores} cores (${m.availableParallelism} usable), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}` +
      `${m.gitCommit !== undefined ? `, commit ${m.gitCommit}${m.gitDirty === true ? ' + uncommitted changes' : ''}` : ''}\n` +
      `process wall times: ${report.wallTool}; whole run ${report.durationS} s\n` +
      `load average (1 min) ${m.loadAverageAtStart[0] ?? '?'} at start, ${report.loadAverageAtEnd[0] ?? '?'} at end${busy(report) ? ': the machine was busy, so figures are slower than on an idle one' : ''}\n\n` +
      `${renderTable(sections)}\n\n`,
  );
  for (const section of sections) for (const note of section.notes) process.stdout.write(`note (${section.id}): ${note}\n`);
  const written = await writeReport(report, join(repoRoot, 'bench-results'));
  process.stdout.write(`\nwrote ${written.json}\nwrote ${written.markdown}\n`);
  const exitCode = options.strict && sections.some((section) => section.status === 'skipped') ? 1 : 0;
  // A section abandoned at the budget may still hold a socket open (autocannon runs in this
  // process): its children are gone, so do not wait for it. stdout/stderr are synchronous here.
  if (overBudget) process.exit(exitCode);
  return exitCode;
}

const OVER_BUDGET = Symbol('over budget');

/** The section's outcome, or OVER_BUDGET when the bench's time runs out first. */
async function withinBudget(running: Promise<SectionOutcome>, remainingMs: number): Promise<SectionOutcome | typeof OVER_BUDGET> {
  // Abandoned at the budget, it may still fail later: that must not count as a crash.
  running.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof OVER_BUDGET>((resolve) => {
    timer = setTimeout(() => resolve(OVER_BUDGET), Math.max(0, remainingMs));
  });
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A 1-minute load above half the cores at either end: other work competed for the CPU. */
function busy(report: BenchReport): boolean {
  const limit = report.machine.availableParallelism / 2;
  return (report.machine.loadAverageAtStart[0] ?? 0) > limit || (report.loadAverageAtEnd[0] ?? 0) > limit;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${describeError(error)}\n`);
  process.exitCode = error instanceof SignerError && error.code === 'USAGE' ? 2 : 1;
}
