import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { SecretIO } from '../../../src/keys/secret.js';
import { TpmClient } from '../../../src/keys/tpm/client.js';
import { parseTcti } from '../../../src/keys/tpm/tcti.js';
import { openTransport } from '../../../src/keys/tpm/transport.js';
import { createTpmKeys, runTool, startSwtpm, type RunningSwtpm, type SwtpmOptions, type TpmFixture, type TpmKeyName } from '../../../scripts/fixtures/swtpm.js';

/**
 * Per-test swtpm processes and key fixtures, each in a fresh temp dir that teardown removes
 * after stopping the simulator.
 */
export function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function swtpmFor(t: Test, options: Omit<SwtpmOptions, 'stateDir'> & { stateDir?: string }): Promise<RunningSwtpm> {
  const stateDir = options.stateDir ?? join(tempDir(t, 'swtpm'), 'state');
  const swtpm = await startSwtpm({ ...options, stateDir });
  t.teardown(() => swtpm.stop());
  return swtpm;
}

export interface KeyRig {
  readonly swtpm: RunningSwtpm;
  readonly fixture: TpmFixture;
  readonly dir: string;
}

export async function keyRig(t: Test, names?: readonly TpmKeyName[]): Promise<KeyRig> {
  const dir = tempDir(t, 'tpm-keys');
  const swtpm = await swtpmFor(t, { mode: 'tcp', stateDir: join(dir, 'state') });
  const fixture = await createTpmKeys(swtpm, join(dir, 'keys'), names);
  return { swtpm, fixture, dir };
}

/** A second simulator on a copy of the rig's TPM state, on a UNIX socket: same seeds, same keys. */
export async function unixTwinOf(t: Test, rig: KeyRig): Promise<RunningSwtpm> {
  const stateDir = join(tempDir(t, 'swtpm-unix'), 'state');
  cpSync(rig.swtpm.stateDir, stateDir, { recursive: true, filter: (source) => !/swtpm\.(sock|ctrl|pid|log)$/.test(source) });
  return swtpmFor(t, { mode: 'unix', stateDir });
}

/** Runs `use` with a client of its own on the simulator (one client at a time), then closes it. */
export async function withClient<T>(swtpm: RunningSwtpm, use: (client: TpmClient) => Promise<T>): Promise<T> {
  const transport = await openTransport(parseTcti(swtpm.tcti, 'test'));
  try {
    return await use(new TpmClient(transport));
  } finally {
    await transport.close();
  }
}

export async function transientHandles(swtpm: RunningSwtpm): Promise<number[]> {
  return withClient(swtpm, (client) => client.listTransientHandles());
}

/** Runs a tpm2-tools command against the simulator (TCP mode), e.g. to put the TPM in a state. */
export function tpm2Tool(swtpm: RunningSwtpm, tool: string, args: readonly string[]): Promise<string> {
  return runTool(tool, args, { TPM2TOOLS_TCTI: swtpm.tcti });
}

/** No terminal and no commands: every secret comes from the key spec or from `env`. */
export function noTerminalSecretIO(env: Record<string, string> = {}): SecretIO {
  return {
    env,
    promptTty: async () => undefined,
    readFile: (path) => readFileSync(path),
    runCommand: async () => {
      throw new Error('no commands in tests');
    },
  };
}
