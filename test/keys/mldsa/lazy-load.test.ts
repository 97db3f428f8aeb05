import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { isolatedEnv, run } from '../../helpers/cli.js';
import { startRig } from '../../helpers/emulator-rig.js';
import { buildRoot, cliPath } from '../../helpers/paths.js';
import { expandBundleChunks } from '../../helpers/bundle-chunks.js';

/** Cold start: the ML-DSA code (@noble/post-quantum) loads for ML-DSA keys only. */
const rig = await startRig();
t.teardown(() => rig.close());

async function modulesLoadedBy(name: string, args: readonly string[]): Promise<string[]> {
  const trace = join(rig.dir, `${name}.imports`);
  const result = await run(process.execPath, ['--import', join(buildRoot, 'test', 'helpers', 'module-recorder.js'), cliPath, ...args], {
    env: isolatedEnv({ MODULE_RECORD_FILE: trace }),
  });
  if (result.code !== 0) throw new Error(`${name} failed: ${result.stderr}`);
  return expandBundleChunks((await readFile(trace, 'utf8')).split('\n').filter((line) => line !== ''));
}

for (const keyAlgorithm of ['EC-P256', 'RSA-2048'] as const) {
  t.test(`credential-process with an ${keyAlgorithm} key loads no ML-DSA code`, async (t) => {
    const id = await rig.issueFileIdentity(`lazy-${keyAlgorithm}`, keyAlgorithm);
    const loaded = await modulesLoadedBy(keyAlgorithm, ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]);
    t.ok(loaded.some((url) => url.includes('/src/keys/file.js')), 'the trace sees the key code (the probe works)');
    t.same(loaded.filter((url) => url.includes('post-quantum') || url.includes('/@noble/')), [], 'no @noble module');
  });
}

t.test('credential-process with an ML-DSA-65 key loads it (the positive control)', async (t) => {
  const id = await rig.issueFileIdentity('lazy-ml-dsa', 'ML-DSA-65');
  const loaded = await modulesLoadedBy('ML-DSA-65', ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]);
  t.ok(loaded.some((url) => url.includes('@noble/post-quantum')), '@noble/post-quantum is loaded');
});
