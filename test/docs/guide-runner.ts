import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Test } from 'tap';
import { isolatedEnv } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { codeBlocks, outputMatches, transcriptSteps, type CodeBlock } from './doc-blocks.js';

/**
 * The guides run as written. Every shell block in README.md and docs/*.md is marked: `{run}`
 * blocks of one guide run in order, in one bash with `set -euo pipefail`, in a sandbox (a
 * temporary HOME and working directory, `roles-anywhere-signer` on PATH as `npm install -g`
 * puts it, nothing of the caller's AWS or signer settings); transcripts compare the output
 * they show. `{needs=...}` blocks are listed, per guide and need, in docs/README.md.
 * The marking convention is documented in doc-blocks.ts and docs/README.md. The guides are
 * split over guides-run-*.test.ts by name, so that no test file comes near tap's timeout.
 */

export const guideFiles = [
  join(repoRoot, 'README.md'),
  ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => join(repoRoot, 'docs', name)),
].filter((file) => existsSync(file));

const GUIDE_TIMEOUT_MS = 180_000;

interface GuideRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** file:line of the last block or step started. */
  readonly lastStep: string;
  readonly outputs: ReadonlyMap<string, { output: string; status: number }>;
}

// DOC_GUIDES=softhsm (a regular expression) runs only the matching guides, while editing one.
const onlyGuides = process.env['DOC_GUIDES'] === undefined ? undefined : new RegExp(process.env['DOC_GUIDES']);

export function defineGuideRuns(t: Test, select: (name: string) => boolean): void {
  for (const file of guideFiles) {
    const name = relative(repoRoot, file);
    if (!select(name) || (onlyGuides !== undefined && !onlyGuides.test(name))) continue;
    const runnable = codeBlocks(readFileSync(file, 'utf8')).filter((block) => block.run);
    if (runnable.length === 0) continue;
    t.test(`${name} runs as written (${String(runnable.length)} blocks)`, async (t) => {
      const result = await runGuide(name, runnable);
      if (result.code === 0) t.pass('the guide\'s steps succeed');
      else t.fail(`a step failed (exit ${String(result.code)}) at ${result.lastStep}\n--- stderr (end) ---\n${result.stderr.slice(-3000)}\n--- stdout (end) ---\n${result.stdout.slice(-2000)}`);
      for (const block of runnable.filter((candidate) => candidate.language === 'console')) {
        transcriptSteps(block.body).forEach((step, index) => {
          const where = `${name}:${String(block.line)} step ${String(index + 1)} ($ ${step.command.split('\n')[0] ?? ''})`;
          const outcome = result.outputs.get(stepId(block, index));
          if (outcome === undefined) {
            t.fail(`${where}: did not run`);
            return;
          }
          if (step.expected === '') {
            t.equal(outcome.status, 0, `${where}: succeeds (it shows no output)\n${outcome.output}`);
          } else {
            t.ok(outputMatches(step.expected, outcome.output), `${where}: shows what the guide shows`, { expected: step.expected, actual: outcome.output });
          }
        });
      }
    });
  }
}

function stepId(block: CodeBlock, index: number): string {
  return `${String(block.line)}-${String(index)}`;
}

function guideScript(name: string, blocks: readonly CodeBlock[]): string {
  const parts = ['set -euo pipefail', 'cd "$DOC_WORK"'];
  for (const block of blocks) {
    if (block.language !== 'console') {
      parts.push(`printf '%s\\n' '${name}:${String(block.line)}' > "$DOC_PROGRESS"`, block.body);
      continue;
    }
    transcriptSteps(block.body).forEach((step, index) => {
      const id = stepId(block, index);
      parts.push(
        `printf '%s\\n' '${name}:${String(block.line)} step ${String(index + 1)}' > "$DOC_PROGRESS"`,
        `status=0; { ${step.command}\n} > "$DOC_OUTPUT/${id}" 2>&1 || status=$?; echo "$status" > "$DOC_OUTPUT/${id}.status"`,
      );
    });
  }
  return `${parts.join('\n')}\n`;
}

async function runGuide(name: string, blocks: readonly CodeBlock[]): Promise<GuideRun> {
  const sandbox = await mkdtemp(join(tmpdir(), 'guide-'));
  try {
    const home = join(sandbox, 'home');
    const work = join(sandbox, 'work');
    const bin = join(sandbox, 'bin');
    const output = join(sandbox, 'output');
    for (const dir of [home, work, bin, output]) await mkdir(dir, { recursive: true });
    // As `npm install -g` installs it: a symlink named after the package to the executable
    // entry point, so a further symlink (aws_signing_helper) sees its own name too.
    chmodSync(cliPath, 0o755);
    await symlink(cliPath, join(bin, 'roles-anywhere-signer'));
    const progress = join(sandbox, 'progress');
    const script = join(sandbox, 'guide.sh');
    await writeFile(script, guideScript(name, blocks));
    const env = isolatedEnv({
      HOME: home,
      PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      DOC_WORK: work,
      DOC_OUTPUT: output,
      DOC_PROGRESS: progress,
      // serve.md points the AWS CLI at IMDS on purpose; a guide that forgets credentials then
      // waits on IMDS for a second or two, which is what a user would see too.
      AWS_EC2_METADATA_DISABLED: undefined,
      SOFTHSM2_CONF: undefined,
      XDG_RUNTIME_DIR: undefined,
      XDG_CONFIG_HOME: undefined,
      XDG_CACHE_HOME: undefined,
    });
    const { code, stdout, stderr } = await runDetached('bash', [script], env, GUIDE_TIMEOUT_MS);
    const outputs = new Map<string, { output: string; status: number }>();
    for (const entry of readdirSync(output)) {
      if (entry.endsWith('.status')) continue;
      const status = Number((await readFile(join(output, `${entry}.status`), 'utf8').catch(() => '255')).trim());
      outputs.set(entry, { output: await readFile(join(output, entry), 'utf8'), status });
    }
    const lastStep = existsSync(progress) ? (await readFile(progress, 'utf8')).trim() : '(none)';
    return { code, stdout, stderr, lastStep, outputs };
  } finally {
    await rm(sandbox, { recursive: true, force: true });
  }
}

/**
 * bash in its own process group, so that whatever the guide left running (an emulator started
 * in the background) is ended with it. Bounded: killed after `timeoutMs`.
 */
function runDetached(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => killGroup('SIGKILL'), timeoutMs);
    let exitCode: number | null = null;
    child.on('error', reject);
    // Background children keep the pipes open: end the group once bash itself has exited.
    child.on('exit', (code) => {
      exitCode = code;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5_000).unref();
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ code: exitCode, stdout, stderr });
    });
  });
}
