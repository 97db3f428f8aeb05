/**
 * `npm run build:sea`: the standalone executable, one file `roles-anywhere-signer` for linux-x64,
 * like the reference helper's single binary: no Node, no npm, no compiler needed where it runs.
 *
 *   node dist/scripts/sea/build.js [--out FILE]   (default dist/sea/roles-anywhere-signer)
 *
 * How (Node's single executable application support, https://nodejs.org/api/single-executable-applications.html):
 *  1. esbuild bundles src/cli/main.ts and its dependencies into one CommonJS file (a SEA runs one
 *     CommonJS script). Three modules are swapped for SEA versions: src/version.ts (the version is
 *     fixed at build time: there is no package.json to read), src/native-file.ts and pkcs11js's
 *     `require('./build/Release/pkcs11.node')` (the two native addons come from the executable's
 *     assets, see scripts/sea/assets.ts).
 *  2. `node --experimental-sea-config` turns it into a blob, with a V8 code cache (faster start)
 *     and the two `.node` files as assets: the hardening addon built by scripts/build-prebuilt.sh,
 *     and pkcs11js's binding as `npm ci` built it.
 *  3. postject injects the blob into a copy of this very node binary.
 *
 * The executable is a build of the node running this script: build it with the Node version you
 * mean to ship. Third-party licences of the bundled packages are written beside it
 * (<out>.LICENSES.txt) because the bundle drops the packages' own files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { repoRoot } from '../paths.js';

const exec = promisify(execFile);
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const PKCS11_ASSET = 'pkcs11.node';
export const HARDENING_ASSET = 'roles_anywhere_native.node';

export interface SeaBuildResult {
  readonly executable: string;
  readonly bytes: number;
  readonly licenses: string;
  /** The newest glibc symbol version each part needs (from objdump -T), where objdump exists. */
  readonly glibcNeeded: Readonly<Record<string, string>>;
}

/** The newest GLIBC_x.y symbol version a binary links against: the oldest glibc it runs on. */
async function newestGlibcSymbol(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec('objdump', ['-T', binary], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    const versions = [...new Set(stdout.match(/GLIBC_\d+(\.\d+)*/g) ?? [])].map((symbol) => symbol.slice('GLIBC_'.length));
    const numeric = (version: string): number[] => version.split('.').map(Number);
    versions.sort((a, b) => {
      const [x, y] = [numeric(a), numeric(b)];
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
      return 0;
    });
    return versions.at(-1);
  } catch {
    return undefined;
  }
}

/** The swaps that make the bundle run as a SEA; anything else native fails the build. */
function seaPlugin(version: string): Plugin {
  const seaDir = join(repoRoot, 'scripts', 'sea');
  return {
    name: 'roles-anywhere-sea',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export function packageVersion(): string { return ${JSON.stringify(version)}; }\n`,
        loader: 'ts',
      }));
      pluginBuild.onResolve({ filter: /^\.\/native-file\.js$/ }, (args) =>
        args.importer === join(repoRoot, 'src', 'native.ts') ? { path: join(seaDir, 'native-file.ts') } : undefined,
      );
      pluginBuild.onResolve({ filter: /\.node$/ }, (args) => {
        if (args.importer.includes(`${sep}node_modules${sep}pkcs11js${sep}`) && args.path.endsWith(`/${PKCS11_ASSET}`)) {
          return { path: PKCS11_ASSET, namespace: 'sea-asset' };
        }
        return { errors: [{ text: `${args.path} (from ${args.importer}): a native addon the executable does not carry` }] };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: 'sea-asset' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(join(seaDir, 'assets.ts'))}).loadSeaAddon(${JSON.stringify(args.path)});\n`,
        loader: 'js',
        resolveDir: seaDir,
      }));
    },
  };
}

/** The nearest directory holding package.json above a bundled file inside node_modules. */
function packageDirOf(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(sep);
  const name = rest[0]?.startsWith('@') === true ? rest.slice(0, 2).join(sep) : rest[0];
  return name === undefined ? undefined : file.slice(0, at + marker.length) + name;
}

async function licenseText(packageDir: string): Promise<string> {
  const meta = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { name?: string; version?: string; license?: string };
  const files = (await readdir(packageDir)).filter((name) => /^(licen[cs]e|notice|copying)/i.test(name)).sort();
  const texts = await Promise.all(files.map(async (name) => `--- ${name}\n${(await readFile(join(packageDir, name), 'utf8')).trim()}\n`));
  return `=== ${meta.name ?? packageDir}@${meta.version ?? '?'} (${meta.license ?? 'see below'})\n${texts.join('') || '(no licence file in the package)\n'}`;
}

export async function buildSea(out: string): Promise<SeaBuildResult> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the standalone executable is built for linux-x64; this is ${process.platform}-${process.arch}`);
  }
  const pkcs11Binary = join(repoRoot, 'node_modules', 'pkcs11js', 'build', 'Release', PKCS11_ASSET);
  if (!existsSync(pkcs11Binary)) throw new Error(`${pkcs11Binary} is missing: run npm ci with a C++ compiler first`);
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

  const work = await mkdtemp(join(tmpdir(), 'ras-sea-'));
  try {
    await exec('bash', [join(repoRoot, 'scripts', 'build-prebuilt.sh'), join(work, 'prebuilds')], { timeout: 120_000 });
    const hardeningBinary = join(work, 'prebuilds', 'linux-x64', 'roles_anywhere_native.glibc.node');

    const bundle = join(work, 'main.cjs');
    const result = await build({
      entryPoints: [join(repoRoot, 'src', 'cli', 'main.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // A SEA's main script has no import.meta; a file URL of the executable stands in for it.
      define: { 'import.meta.url': '__seaImportMetaUrl' },
      banner: { js: `const __seaImportMetaUrl = require('node:url').pathToFileURL(process.execPath).href;` },
      plugins: [seaPlugin(version)],
      metafile: true,
      legalComments: 'none',
      logLevel: 'error',
    });

    const packageDirs = [...new Set(Object.keys(result.metafile.inputs).map((input) => packageDirOf(resolve(repoRoot, input))).filter((dir) => dir !== undefined))].sort();
    const licenses = `${out}.LICENSES.txt`;
    const header = `Third-party software bundled in roles-anywhere-signer ${version} (standalone executable), with its licences.\nNode.js itself: see https://github.com/nodejs/node/blob/main/LICENSE\n\n`;
    const bodies = await Promise.all(packageDirs.map((dir) => licenseText(dir)));

    const seaConfig = join(work, 'sea-config.json');
    const blob = join(work, 'sea.blob');
    await writeFile(
      seaConfig,
      JSON.stringify({
        main: bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        useCodeCache: true,
        assets: { [PKCS11_ASSET]: pkcs11Binary, [HARDENING_ASSET]: hardeningBinary },
      }),
    );
    await exec(process.execPath, ['--experimental-sea-config', seaConfig], { cwd: work, timeout: 120_000 });

    // A copy of this node, the blob injected, renamed into place only once complete.
    await mkdir(dirname(out), { recursive: true });
    const partial = `${out}.partial`;
    await copyFile(process.execPath, partial);
    await chmod(partial, 0o755);
    const postject = join(repoRoot, 'node_modules', 'postject', 'dist', 'cli.js');
    await exec(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    await rename(partial, out);
    await writeFile(licenses, header + bodies.join('\n'));
    const glibcNeeded: Record<string, string> = {};
    for (const [part, binary] of [['node', process.execPath], ['pkcs11js', pkcs11Binary], ['hardening addon', hardeningBinary]] as const) {
      const version = await newestGlibcSymbol(binary);
      if (version !== undefined) glibcNeeded[part] = version;
    }
    return { executable: out, bytes: (await stat(out)).size, licenses, glibcNeeded };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' } } });
  const out = resolve(values.out ?? join(repoRoot, 'dist', 'sea', 'roles-anywhere-signer'));
  const built = await buildSea(out);
  process.stderr.write(`standalone executable: ${relative(process.cwd(), built.executable) || built.executable} (${(built.bytes / 1024 / 1024).toFixed(1)} MiB), licences in ${relative(process.cwd(), built.licenses)}\n`);
  const needs = Object.entries(built.glibcNeeded).map(([part, version]) => `${part} ${version}`).join(', ');
  if (needs !== '') process.stderr.write(`oldest glibc it runs on, by part: ${needs}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`build-sea: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
