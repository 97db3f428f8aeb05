import { join } from 'node:path';
import { buildRoot } from '../paths.js';
import { checkCredentialProcess, fileKeyWorld, wallFigure, type Section } from './context.js';
import { isolatedEnv } from './processes.js';
import { timeCommands } from './wall-time.js';

/**
 * credential-process cold: a whole run of the installed command (dist/cli/roles-anywhere-signer.cjs:
 * Node start, CLI load through its code cache, key file, signature, one CreateSession to the
 * emulator on 127.0.0.1, JSON out), beside `node -e 0` (Node's own floor on this machine),
 * `version` and `--help` (the CLI's start-up alone). Two more rows show what the bundle and its
 * cache buy: the same run with the code cache off (every run compiles, as the first run after an
 * install does; `env` starts it, about a millisecond) and the unbundled ES modules tsc emits.
 */
export const coldSection: Section = {
  id: 'cold',
  title: 'credential-process cold start, file key',
  estimateMs: 30_000,
  async run(context) {
    const { flags } = await fileKeyWorld(context, 'cold-ec-p256');
    const args = ['credential-process', ...flags];
    const env = isolatedEnv();
    await checkCredentialProcess(context, args, env);
    const node = process.execPath;
    const unbundled = join(buildRoot, 'src', 'cli', 'main.js');
    const [baseline, start, help, full, uncached, esm] = await timeCommands(
      [
        { name: 'node -e 0', command: node, args: ['-e', '0'] },
        { name: 'version', command: node, args: [context.cliPath, 'version'] },
        { name: '--help', command: node, args: [context.cliPath, '--help'] },
        { name: 'credential-process file EC P-256', command: node, args: [context.cliPath, ...args] },
        { name: 'credential-process, code cache off', command: 'env', args: ['ROLES_ANYWHERE_SIGNER_COMPILE_CACHE=0', node, context.cliPath, ...args] },
        { name: 'credential-process, unbundled ES modules', command: node, args: [unbundled, ...args] },
      ],
      { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 120_000, scratchDir: context.scratchDir, cleanup: context.cleanup },
    );
    if (baseline === undefined || start === undefined || help === undefined || full === undefined || uncached === undefined || esm === undefined) return { status: 'skipped', reason: 'the timing tool returned fewer results than commands' };
    return {
      status: 'ran',
      figures: [
        wallFigure('cold.node-baseline', '`node -e 0` (Node start-up floor)', baseline),
        wallFigure('cold.cli-version', '`roles-anywhere-signer version` (CLI start-up, no key, no network)', start, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.cli-help', '`roles-anywhere-signer --help` (commander and every command\'s flags, no key)', help, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.credential-process.file-ec-p256', '`roles-anywhere-signer credential-process`, EC P-256 key file', full, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.credential-process.no-code-cache', 'the same, code cache off (ROLES_ANYWHERE_SIGNER_COMPILE_CACHE=0: each run compiles, like the first after an install)', uncached, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.credential-process.unbundled', 'the same through the unbundled ES modules (`node dist/src/cli/main.js`, the layout before the bundle)', esm, { baseline: { result: baseline, name: '`node -e 0`' } }),
      ],
      notes: ['cold = a new process per run, as SDKs run credential_process; each run makes one verified CreateSession to the in-process emulator on 127.0.0.1'],
    };
  },
};
