import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import type { CodeCache } from './compile-cache.js';

/**
 * Loads the CLI's bundled chunks (scripts/build-cli.ts: CommonJS modules that `require('./x.cjs')`
 * each other, each written as the function expression Node's loader would wrap it in) the way
 * Node's CommonJS loader would, with one difference: each is compiled with
 * the V8 code cache of an earlier run, so a start-up deserialises bytecode instead of parsing and
 * compiling our code and our dependencies' again. Anything that is not a chunk (node: built-ins,
 * pkcs11js and its native binding) goes to Node's own `require`.
 *
 * Each chunk is registered in `require.cache` under its path, like any CommonJS module, so tools
 * that list the loaded modules (the module-loading guard test) see them.
 */
export class ChunkLoader {
  readonly #dir: string;
  readonly #cache: CodeCache;
  readonly #nodeRequire: NodeJS.Require;
  readonly #loaded = new Map<string, { module: Module; script: Script }>();
  #compiledWithoutCache = 0;

  constructor(dir: string, cache: CodeCache) {
    this.#dir = dir;
    this.#cache = cache;
    this.#nodeRequire = createRequire(join(dir, 'launcher.cjs'));
  }

  /** The exports of chunk `name` (a file name in the bundle directory), loaded once. */
  load(name: string): unknown {
    const known = this.#loaded.get(name);
    if (known !== undefined) return known.module.exports;
    if (!/^[\w.-]+\.cjs$/.test(name)) throw new Error(`not a chunk of this bundle: ${name}`);
    const file = join(this.#dir, name);
    // The build writes each chunk already wrapped, as a function expression (scripts/build-cli.ts).
    const source = readFileSync(file, 'utf8');
    const cachedData = this.#cache.get(name);
    const script = new Script(source, { filename: file, ...(cachedData !== undefined ? { cachedData: Buffer.from(cachedData.buffer, cachedData.byteOffset, cachedData.byteLength) } : {}) });
    if (cachedData === undefined || script.cachedDataRejected === true) this.#compiledWithoutCache++;
    const module = new Module(file);
    module.filename = file;
    this.#loaded.set(name, { module, script });
    this.#nodeRequire.cache[file] = module;
    const require = (specifier: string): unknown => (specifier.startsWith('./') ? this.load(specifier.slice(2)) : this.#nodeRequire(specifier));
    (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, require, module, file, this.#dir);
    module.loaded = true;
    return module.exports;
  }

  /** Whether this run compiled anything the cache did not hold (then the cache is worth rewriting). */
  get cacheIsIncomplete(): boolean {
    return this.#compiledWithoutCache > 0;
  }

  /**
   * The code cache as it stands now: the chunks of this run, made after they ran, so it holds
   * the functions they actually used (V8 compiles lazily), and what the old cache held for the
   * chunks this run did not load.
   */
  codeCache(): Map<string, Uint8Array> {
    const entries = new Map(this.#cache.stored);
    for (const [name, { script }] of this.#loaded) entries.set(name, script.createCachedData());
    return entries;
  }
}
