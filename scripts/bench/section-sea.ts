import { join } from 'node:path';
import { buildSea } from '../sea/build.js';
import { checkCredentialProcess, fileKeyWorld, wallFigure, type Section } from './context.js';
import { isolatedEnv } from './processes.js';
import { timeCommands } from './wall-time.js';

/**
 * The standalone executable (`npm run build:sea`) cold: `version` and a whole `credential-process`
 * with a key file against the emulator, beside `node -e 0` and the npm CLI's own
 * the npm package's `credential-process` timed in the same run. The executable is built into the
 * scratch directory first (about 15 s, not timed).
 */
export const seaSection: Section = {
  id: 'sea',
  title: 'standalone executable cold start, file key',
  estimateMs: 60_000,
  async run(context) {
    context.progress('sea: building the standalone executable (npm run build:sea)');
    const built = await buildSea(join(context.scratchDir, 'sea', 'roles-anywhere-signer'));
    const { flags } = await fileKeyWorld(context, 'sea-ec-p256');
    const args = ['credential-process', ...flags];
    const env = isolatedEnv();
    await checkCredentialProcess(context, args, env);
    const node = process.execPath;
    const [baseline, seaVersion, seaFull, npmFull] = await timeCommands(
      [
        { name: 'node -e 0', command: node, args: ['-e', '0'] },
        { name: 'executable version', command: built.executable, args: ['version'] },
        { name: 'executable credential-process file EC P-256', command: built.executable, args },
        { name: 'npm package credential-process file EC P-256', command: node, args: [context.cliPath, ...args] },
      ],
      { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 120_000, scratchDir: context.scratchDir, cleanup: context.cleanup },
    );
    if (baseline === undefined || seaVersion === undefined || seaFull === undefined || npmFull === undefined) {
      return { status: 'skipped', reason: 'the timing tool returned fewer results than commands' };
    }
    const overNode = { baseline: { result: baseline, name: '`node -e 0`' } };
    const ratio = npmFull.summary.medianMs / seaFull.summary.medianMs;
    const comparison = ratio >= 1 ? `${ratio.toFixed(1)}x faster than the npm CLI in this run` : `${(1 / ratio).toFixed(1)}x slower than the npm CLI in this run`;
    return {
      status: 'ran',
      figures: [
        wallFigure('sea.node-baseline', '`node -e 0` (Node start-up floor)', baseline),
        wallFigure('sea.version', 'standalone executable `version`', seaVersion, overNode),
        wallFigure('sea.credential-process.file-ec-p256', 'standalone executable `credential-process`, EC P-256 key file', seaFull, {
          ...overNode,
          note: comparison,
        }),
        wallFigure('sea.npm-credential-process.file-ec-p256', '`roles-anywhere-signer credential-process` (the npm package), same key, same run', npmFull, overNode),
      ],
      notes: [`the executable is ${(built.bytes / 1024 / 1024).toFixed(1)} MiB: one bundled CommonJS file with a V8 code cache, injected into a copy of this node`],
    };
  },
};
