import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildRoot, cliPath, repoRoot } from './paths.js';

/**
 * The CLI users run is the bundle scripts/build-cli.ts makes: a module the source splits into
 * ends up in a chunk with others. build.json says which source files and packages each chunk
 * holds; with it, the chunks a run loaded become the modules it loaded, named as the compiled
 * tree names them (<build>/src/keys/file.js, <repo>/node_modules/commander/index.js), so one
 * set of patterns reads both.
 */
const bundleDir = dirname(cliPath);
let chunkInputs: Readonly<Record<string, readonly string[]>> | undefined;

function inputsOf(chunk: string): readonly string[] | undefined {
  chunkInputs ??= (JSON.parse(readFileSync(join(bundleDir, 'build.json'), 'utf8')) as { chunks: Record<string, string[]> }).chunks;
  return chunkInputs[chunk];
}

/** Loaded paths with each chunk of the bundle replaced by the modules inside it. */
export function expandBundleChunks(paths: readonly string[]): string[] {
  return [
    ...new Set(
      paths.flatMap((path) => {
        if (dirname(path) !== bundleDir) return [path];
        const inputs = inputsOf(basename(path));
        if (inputs === undefined) return [path];
        return [path, ...inputs.map((input) => (input.startsWith('src/') ? join(buildRoot, input.replace(/\.ts$/, '.js')) : join(repoRoot, input)))];
      }),
    ),
  ];
}
