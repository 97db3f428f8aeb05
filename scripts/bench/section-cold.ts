import { checkCredentialProcess, fileKeyWorld, wallFigure, type Section } from './context.js';
import { isolatedEnv } from './processes.js';
import { timeCommands } from './wall-time.js';

/**
 * credential-process cold: a whole `node main.js credential-process` run (Node start, CLI load,
 * key file, signature, one CreateSession to the emulator on 127.0.0.1, JSON out), beside
 * `node -e 0` (Node's own floor on this machine), `version` and `--help` (the CLI's start-up alone).
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
    const [baseline, start, help, full] = await timeCommands(
      [
        { name: 'node -e 0', command: node, args: ['-e', '0'] },
        { name: 'version', command: node, args: [context.cliPath, 'version'] },
        { name: '--help', command: node, args: [context.cliPath, '--help'] },
        { name: 'credential-process file EC P-256', command: node, args: [context.cliPath, ...args] },
      ],
      { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 120_000, scratchDir: context.scratchDir, cleanup: context.cleanup },
    );
    if (baseline === undefined || start === undefined || help === undefined || full === undefined) return { status: 'skipped', reason: 'the timing tool returned fewer results than commands' };
    return {
      status: 'ran',
      figures: [
        wallFigure('cold.node-baseline', '`node -e 0` (Node start-up floor)', baseline),
        wallFigure('cold.cli-version', '`main.js version` (CLI start-up, no key, no network)', start, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.cli-help', '`main.js --help` (commander and every command\'s flags, no key)', help, { baseline: { result: baseline, name: '`node -e 0`' } }),
        wallFigure('cold.credential-process.file-ec-p256', '`main.js credential-process`, EC P-256 key file', full, { baseline: { result: baseline, name: '`node -e 0`' } }),
      ],
      notes: ['cold = a new process per run, as SDKs run credential_process; each run makes one verified CreateSession to the in-process emulator on 127.0.0.1'],
    };
  },
};
