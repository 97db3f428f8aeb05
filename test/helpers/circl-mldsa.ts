import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * Cloudflare CIRCL's ML-DSA (Go), an implementation independent of the one the signer uses
 * (@noble/post-quantum): scripts/fixtures/circl-mldsa/main.go, built on demand into .fixtures/
 * (the Go module proxy serves CIRCL). undefined when no Go toolchain is installed.
 */
export interface CirclSignJob { readonly set: string; readonly seed: string; readonly message: string }
export interface CirclVerifyJob { readonly set: string; readonly publicKey: string; readonly message: string; readonly signature: string }
export interface CirclResult {
  readonly sign: ReadonlyArray<{ readonly publicKey: string; readonly expandedKey: string; readonly signature: string }>;
  readonly verify: readonly boolean[];
}

const source = join(repoRoot, 'scripts', 'fixtures', 'circl-mldsa');
const binary = join(repoRoot, '.fixtures', 'circl-mldsa', 'circl-mldsa');

export function buildCirclMlDsa(): string | undefined {
  if (existsSync(binary)) return binary;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) return undefined;
  mkdirSync(join(repoRoot, '.fixtures', 'circl-mldsa'), { recursive: true });
  const built = spawnSync('go', ['build', '-o', binary, '.'], { cwd: source, encoding: 'utf8', timeout: 300_000, env: { ...process.env, GOFLAGS: '-mod=mod' } });
  if (built.status !== 0) throw new Error(`building the CIRCL ML-DSA rig failed: ${built.stderr}`);
  return binary;
}

export function runCirclMlDsa(path: string, input: { readonly sign: readonly CirclSignJob[]; readonly verify: readonly CirclVerifyJob[] }): Promise<CirclResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`circl-mldsa exited ${String(code)}: ${stderr.trim()}`));
      else resolve(JSON.parse(stdout) as CirclResult);
    });
    child.stdin.end(JSON.stringify(input));
  });
}
