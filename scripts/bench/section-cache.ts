import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import { checkCredentialProcess, fileKeyWorld, wallFigure, type Section } from './context.js';
import { isolatedEnv } from './processes.js';
import { timeCommands } from './wall-time.js';

/**
 * `credential-process --cache`: a warm run (credentials read from the cache file, no key, no
 * CreateSession) beside a cold one (cache emptied before every run: key, sign, CreateSession,
 * write the cache). The cache lives under a private XDG_RUNTIME_DIR made for this run.
 */
export const cacheSection: Section = {
  id: 'cache',
  title: 'credential-process --cache, warm vs cold',
  estimateMs: 20_000,
  async run(context) {
    const { endpoint, flags } = await fileKeyWorld(context, 'cache-ec-p256');
    const runtimeDir = join(context.scratchDir, 'xdg-runtime');
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    const cacheDir = join(runtimeDir, 'roles-anywhere-signer');
    const env = isolatedEnv({ XDG_RUNTIME_DIR: runtimeDir, XDG_CACHE_HOME: undefined });
    const args = [context.cliPath, 'credential-process', '--cache', ...flags];
    const timing = { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 90_000, scratchDir: context.scratchDir, cleanup: context.cleanup };

    await checkCredentialProcess(context, args.slice(1), env);
    // The last cold run leaves a filled cache behind: the warm runs start from it.
    const [cold] = await timeCommands([{ name: 'credential-process --cache (cold)', command: process.execPath, args }], { ...timing, removeBeforeEachRun: cacheDir });
    const sessionsBefore = endpoint.stats().createSession;
    const [baseline, warm] = await timeCommands(
      [
        { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
        { name: 'credential-process --cache (warm)', command: process.execPath, args },
      ],
      timing,
    );
    const sessionsDuringWarm = endpoint.stats().createSession - sessionsBefore;
    if (cold === undefined || baseline === undefined || warm === undefined) throw new SignerError('INTERNAL', 'the timing tool returned no result');
    // A warm figure is only a cache figure if no warm run went to the endpoint.
    if (sessionsDuringWarm !== 0) {
      throw new SignerError('INTERNAL', `${sessionsDuringWarm} warm --cache runs called CreateSession: the cache was not used, so there is no warm figure`);
    }
    return {
      status: 'ran',
      figures: [
        wallFigure('cache.cold', '`credential-process --cache`, cache empty (EC P-256 key file)', cold, { note: 'fetches and writes the cache file' }),
        wallFigure('cache.warm', '`credential-process --cache`, cache filled', warm, {
          baseline: { result: baseline, name: '`node -e 0` timed beside it' },
          note: `${(cold.summary.medianMs / warm.summary.medianMs).toFixed(1)}x faster than cold; no CreateSession during the warm runs`,
        }),
      ],
      notes: ['the cache directory is removed (untimed) before every cold run, warm-up runs included'],
    };
  },
};
