import { ChunkLoader } from './chunk-loader.js';
import { cacheLocation, EMPTY_CODE_CACHE, readCodeCache, writeCodeCache } from './compile-cache.js';

/**
 * The `roles-anywhere-signer` command as installed: scripts/build-cli.ts bundles this file into
 * dist/cli/roles-anywhere-signer.cjs beside the CLI's chunks, and fills in the two names below.
 * It starts the CLI's entry chunk through the code cache, and after a run that had to compile
 * something, leaves the cache complete for the next one (see compile-cache.ts). It is CommonJS
 * on purpose: an ES module entry point costs Node its ESM loader before the first line runs.
 */
declare const RAS_ENTRY_CHUNK: string;
declare const RAS_BUILD_ID: string;

if (typeof RAS_ENTRY_CHUNK !== 'string' || typeof RAS_BUILD_ID !== 'string') {
  throw new Error('launch.ts runs only as the bundle scripts/build-cli.ts makes (dist/cli/roles-anywhere-signer.cjs)');
}
/**
 * The commands that run as servers (serve, emulate, update) start once and then run for hours,
 * so they go without the code cache: it would save them ~15 ms once, and deserialising it
 * touches about 4 MB more of the node binary, resident all that time (their one-shot forms,
 * `update --once` and `emulate --init`, pay the compile too; they are set-up steps).
 */
const SERVER_COMMANDS: ReadonlySet<string | undefined> = new Set(['serve', 'emulate', 'update']);
const longRunning = SERVER_COMMANDS.has(process.argv[2]);
const nodeOptions = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].join('\0').replace(/\0+$/, '');
const location = longRunning ? undefined : cacheLocation(process.env, RAS_BUILD_ID, { version: process.version, arch: process.arch, options: nodeOptions });
const uid = process.getuid?.();
const loader = new ChunkLoader(__dirname, location === undefined ? EMPTY_CODE_CACHE : readCodeCache(location, uid));
if (location !== undefined) {
  process.once('exit', () => {
    if (loader.cacheIsIncomplete) writeCodeCache(location, loader.codeCache(), uid);
  });
}
loader.load(RAS_ENTRY_CHUNK);
