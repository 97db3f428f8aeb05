/**
 * Builds the CLI users run: dist/cli/roles-anywhere-signer.cjs (the `bin` of the package) and the
 * chunks it loads. Run by `npm run build` and, with --release, by `npm pack`.
 *
 *   node dist/scripts/build-cli.js [--out DIR (default <build>/cli)] [--release]
 *
 * Why a bundle: a cold `credential-process` used to spend most of its time finding, reading and
 * compiling some sixty modules through Node's ES module loader. Here:
 *  1. esbuild bundles src/cli/main.ts with code splitting: every `import()` in the source (each
 *     command, each key source, PKCS#12, ML-DSA) becomes its own chunk, so a command loads only
 *     the code it runs, as before, but in a few files with no resolution work.
 *  2. Each chunk is turned into CommonJS (esbuild splits only ES modules), `import()` included,
 *     because Node 20 can run CommonJS through a V8 code cache and ES modules not at all.
 *  3. The launcher (src/launcher/launch.ts) is bundled alone, with the entry chunk's name and a
 *     digest of all chunks written in; it loads the chunks through the code cache.
 * pkcs11js's JavaScript is bundled (a chunk of its own, compiled through the code cache like the
 * rest); its native binding stays in node_modules, required by package path when a PKCS#11 key
 * is used.
 * Without --release each chunk gets a source map, so stack traces and test coverage point at src/.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, transform, type Plugin } from 'esbuild';
import { buildRoot, repoRoot } from './paths.js';

export const LAUNCHER_NAME = 'roles-anywhere-signer.cjs';
const ENTRY = 'src/cli/main.ts';
/**
 * Line 1 of every chunk, unmapped, so the function wrapper can go there without moving any
 * mapped line: the file URL for the chunks that read `import.meta.url` (a few), a comment for
 * the rest (computing a URL in each of the forty-odd chunks a run loads costs about a millisecond).
 */
const IMPORT_META_URL_BANNER = 'var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;';
const PLAIN_BANNER = '// a chunk of the roles-anywhere-signer CLI, loaded by roles-anywhere-signer.cjs';
/**
 * Each chunk file is its CommonJS module as a function expression, the wrapper Node's own
 * loader would add, so the launcher compiles the file's text as it is (no copy with the wrapper
 * around it) and what V8 runs is byte for byte what is on disk.
 */
const WRAPPER_START = '(function (exports, require, module, __filename, __dirname) {';
const WRAPPER_END = '\n})\n';

/**
 * commander requires node:child_process at load time, only to run external subcommands (which
 * this CLI has none of); child_process pulls in dgram and more. In the bundle it is loaded on
 * first use instead.
 */
const lazyChildProcessForCommander: Plugin = {
  name: 'lazy-child-process-for-commander',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });\n',
      loader: 'js',
    }));
  },
};

/**
 * pkcs11js's index.js requires its binding as ./build/Release/pkcs11.node. In the bundle that
 * becomes `require("pkcs11js/build/Release/pkcs11.node")`, which Node resolves from the
 * package's node_modules as it would `require("pkcs11js")`: when pkcs11js is not installed (an
 * install without a compiler) it fails the same way, and the CLI says so (PKCS11_UNAVAILABLE).
 * Its JavaScript is bundled because Node resolving, reading and compiling it was most of its load
 * time: a SoftHSM credential-process measured 4 to 6 ms faster with it in the bundle.
 */
const pkcs11jsBindingByPackagePath: Plugin = {
  name: 'pkcs11js-binding-by-package-path',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\.node$/ }, (args) => {
      const inPackage = /[\\/]node_modules[\\/]pkcs11js[\\/]/.test(args.importer);
      if (!inPackage || args.path !== './build/Release/pkcs11.node') throw new Error(`unexpected native module ${args.path} imported by ${args.importer}`);
      return { path: 'pkcs11js/build/Release/pkcs11.node', external: true };
    });
  },
};

export interface CliBuild {
  readonly dir: string;
  readonly launcher: string;
  readonly entryChunk: string;
  readonly buildId: string;
  /** Each chunk with the source files (and packages) in it, for the module-loading guard test. */
  readonly chunks: Readonly<Record<string, readonly string[]>>;
}

export async function buildCli(out: string, release: boolean): Promise<CliBuild> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const split = await build({
    absWorkingDir: repoRoot,
    entryPoints: { main: ENTRY },
    outdir: out,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [lazyChildProcessForCommander, pkcs11jsBindingByPackagePath],
    define: { 'import.meta.url': '__importMetaUrl' },
    sourcemap: release ? false : 'inline',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'error',
  });

  const chunks: Record<string, string[]> = {};
  let entryChunk: string | undefined;
  const digest = createHash('sha256');
  for (const file of split.outputFiles.filter((output) => output.path.endsWith('.cjs')).sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const name = basename(file.path);
    const meta = split.metafile.outputs[relative(repoRoot, file.path)];
    if (meta === undefined) throw new Error(`esbuild wrote ${name} without describing it`);
    if (meta.entryPoint === ENTRY) entryChunk = name;
    chunks[name] = Object.keys(meta.inputs).sort();
    // A hashbang would push the banner off line 1; blanking it keeps the input map's lines.
    const esm = file.text.replace(/^#![^\n]*/, (hashbang) => ' '.repeat(hashbang.length));
    const cjs = await transform(esm, {
      format: 'cjs',
      target: 'node20',
      platform: 'node',
      supported: { 'dynamic-import': false },
      banner: esm.includes('__importMetaUrl') ? IMPORT_META_URL_BANNER : PLAIN_BANNER,
      sourcefile: file.path,
      sourcemap: release ? false : 'external',
      logLevel: 'error',
    });
    const code = `${WRAPPER_START}${release ? cjs.code : `${cjs.code}//# sourceMappingURL=${name}.map\n`}${WRAPPER_END}`;
    if (!release) await writeFile(`${file.path}.map`, cjs.map);
    await writeFile(file.path, code);
    digest.update(name).update('\0').update(code).update('\0');
  }
  if (entryChunk === undefined) throw new Error(`esbuild made no chunk for ${ENTRY}`);
  const buildId = digest.digest('hex').slice(0, 24);

  const launcher = join(out, LAUNCHER_NAME);
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ['src/launcher/launch.ts'],
    outfile: launcher,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { RAS_ENTRY_CHUNK: JSON.stringify(entryChunk), RAS_BUILD_ID: JSON.stringify(buildId) },
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'none',
    logLevel: 'error',
  });
  await chmod(launcher, 0o755);
  const result: CliBuild = { dir: out, launcher, entryChunk, buildId, chunks };
  await writeFile(join(out, 'build.json'), `${JSON.stringify({ entryChunk, buildId, chunks }, null, 2)}\n`);
  return result;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' }, release: { type: 'boolean' } } });
  const built = await buildCli(resolve(values.out ?? join(buildRoot, 'cli')), values.release === true);
  process.stderr.write(`cli bundle: ${relative(process.cwd(), built.launcher)} and ${Object.keys(built.chunks).length} chunks (build ${built.buildId})\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`build-cli: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
