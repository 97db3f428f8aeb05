import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ADDON_FIX, BUILT_ADDON, PREBUILT_ADDON, loadAddonFile } from '../src/native-file.js';
import { repoRoot } from './helpers/paths.js';

/**
 * How the hardening addon's binary is chosen: the one compiled here, else the prebuilt one the
 * package ships for linux-x64; one that does not load is skipped. The prebuilt binary comes from
 * scripts/build-prebuilt.sh, which must give the same bytes wherever the checkout lives.
 */
const exec = promisify(execFile);
const scratch = await mkdtemp(join(tmpdir(), 'ras-native-file-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));

// Two builds from two copies of the sources at different paths (what a packer's checkout is).
async function buildPrebuiltFrom(copyName: string): Promise<string> {
  const copy = join(scratch, copyName);
  await mkdir(join(copy, 'native'), { recursive: true });
  await mkdir(join(copy, 'scripts'), { recursive: true });
  await copyFile(join(repoRoot, 'native', 'hardening.c'), join(copy, 'native', 'hardening.c'));
  await copyFile(join(repoRoot, 'scripts', 'build-prebuilt.sh'), join(copy, 'scripts', 'build-prebuilt.sh'));
  await exec('bash', [join(copy, 'scripts', 'build-prebuilt.sh'), join(copy, 'prebuilds')], { timeout: 60_000 });
  return join(copy, PREBUILT_ADDON);
}

const prebuilt = await buildPrebuiltFrom('checkout-one');

t.test('the prebuilt binary is reproducible: same source, same compiler, same bytes, wherever built', async (t) => {
  const again = await buildPrebuiltFrom('somewhere/else/checkout-two');
  t.ok((await readFile(prebuilt)).equals(await readFile(again)), 'byte-identical');
  const info = await readFile(join(dirname(prebuilt), 'BUILD-INFO'), 'utf8');
  t.match(info, /^sha256: [0-9a-f]{64}$/m);
  t.match(info, /^compiler: \S+/m);
});

/** A fake package root holding the given files (copies of the prebuilt binary, or junk). */
async function packageRoot(name: string, files: Record<string, 'addon' | 'junk'>): Promise<string> {
  const root = join(scratch, name);
  for (const [relative, kind] of Object.entries(files)) {
    await mkdir(dirname(join(root, relative)), { recursive: true });
    if (kind === 'addon') await copyFile(prebuilt, join(root, relative));
    else await writeFile(join(root, relative), 'not an ELF file');
  }
  await mkdir(join(root, 'dist', 'src'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'roles-anywhere-signer', version: '0.0.0' }));
  return join(root, 'dist', 'src');
}

function exportedNames(loaded: ReturnType<typeof loadAddonFile>): string[] {
  return 'reason' in loaded ? [] : Object.keys(loaded.exports as object).sort();
}

t.test('without a compiled binary, the prebuilt one is loaded on linux-x64', async (t) => {
  const start = await packageRoot('prebuilt-only', { [PREBUILT_ADDON]: 'addon' });
  const loaded = loadAddonFile(start, 'linux', 'x64');
  t.equal('path' in loaded ? loaded.path : undefined, join(scratch, 'prebuilt-only', PREBUILT_ADDON));
  t.same(exportedNames(loaded), ['disableCoreDumps', 'getHopLimit', 'lockMemory', 'processProtection', 'setHopLimit', 'unlockMemory']);
});

t.test('the binary compiled on this machine wins over the prebuilt one', async (t) => {
  const start = await packageRoot('both', { [BUILT_ADDON]: 'addon', [PREBUILT_ADDON]: 'addon' });
  const loaded = loadAddonFile(start, 'linux', 'x64');
  t.equal('path' in loaded ? loaded.path : undefined, join(scratch, 'both', BUILT_ADDON));
});

t.test('a compiled binary that does not load is skipped for the prebuilt one', async (t) => {
  const start = await packageRoot('broken-built', { [BUILT_ADDON]: 'junk', [PREBUILT_ADDON]: 'addon' });
  const loaded = loadAddonFile(start, 'linux', 'x64');
  t.equal('path' in loaded ? loaded.path : undefined, join(scratch, 'broken-built', PREBUILT_ADDON));
});

t.test('the prebuilt binary is linux-x64 only; elsewhere the reason names the platform and the fix', async (t) => {
  const start = await packageRoot('other-platform', { [PREBUILT_ADDON]: 'addon' });
  t.same(loadAddonFile(start, 'linux', 'arm64'), { reason: `no native addon was shipped for linux-arm64 or compiled at install: ${ADDON_FIX}` });
  t.same(loadAddonFile(start, 'darwin', 'arm64'), { reason: `no native addon was shipped for darwin-arm64 or compiled at install: ${ADDON_FIX}` });
});

t.test('when every binary present fails to load, the first failure is the reason', async (t) => {
  const start = await packageRoot('all-broken', { [BUILT_ADDON]: 'junk', [PREBUILT_ADDON]: 'junk' });
  const loaded = loadAddonFile(start, 'linux', 'x64');
  const path = join(scratch, 'all-broken', BUILT_ADDON);
  t.notOk('path' in loaded, 'nothing loaded');
  t.match('reason' in loaded ? loaded.reason : '', `the native addon at ${path} does not load (`);
  t.match('reason' in loaded ? loaded.reason : '', `): ${ADDON_FIX}`);
  t.equal(ADDON_FIX, 'with a C compiler, make and Python 3 installed, run npm rebuild roles-anywhere-signer (add -g for a global install; npm run build in a checkout)');
});

t.test('binaries are looked for in this package only, never in a directory above it', async (t) => {
  // A parent directory holding both binaries (a shared /tmp, a parent project) and, inside it,
  // the package without any: nothing is loaded from above.
  const outer = await packageRoot('outer', { [BUILT_ADDON]: 'addon', [PREBUILT_ADDON]: 'addon' });
  const inner = join(outer, '..', '..', 'node_modules', 'roles-anywhere-signer');
  await mkdir(join(inner, 'dist', 'src'), { recursive: true });
  await writeFile(join(inner, 'package.json'), JSON.stringify({ name: 'roles-anywhere-signer', version: '0.0.0' }));
  t.same(loadAddonFile(join(inner, 'dist', 'src'), 'linux', 'x64'), { reason: `no native addon was shipped for linux-x64 or compiled at install: ${ADDON_FIX}` });
  t.same(loadAddonFile(scratch, 'linux', 'x64'), { reason: `no native addon was shipped for linux-x64 or compiled at install: ${ADDON_FIX}` }, 'no package above at all');
});
