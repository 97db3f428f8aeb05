import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SignerError } from '../../errors.js';
import type { Pkcs11Uri } from './uri.js';

/** Where the module to load came from, for --debug and error messages. */
export type ModuleOrigin = '--pkcs11-lib' | 'module-path' | 'module-name' | 'p11-kit-proxy';

export interface ResolvedModule {
  readonly path: string;
  readonly origin: ModuleOrigin;
}

/** File-system questions module resolution asks; passed in so the rules are testable. */
export interface ModuleSearch {
  readonly kindOf: (path: string) => 'file' | 'directory' | undefined;
  readonly readText: (path: string) => string | undefined;
  readonly platform: NodeJS.Platform;
  /** p11-kit registrations (`<name>.module` files), most specific first. */
  readonly registrationDirs: readonly string[];
  /** Directories holding PKCS#11 modules (p11-kit's module path, distribution libdirs). */
  readonly moduleDirs: readonly string[];
  /** Where p11-kit-proxy may be installed, in order. */
  readonly proxyCandidates: readonly string[];
}

/**
 * Picks the PKCS#11 module: --pkcs11-lib, else module-path/module-name in the URIs (RFC 7512
 * section 2.3), else p11-kit-proxy, which loads every module p11-kit knows about.
 */
export function resolveModulePath(flag: string | undefined, uris: readonly Pkcs11Uri[], search: ModuleSearch = systemModuleSearch()): ResolvedModule {
  if (flag !== undefined && flag !== '') return { path: flag, origin: '--pkcs11-lib' };

  const fromUris = new Map<string, ResolvedModule>();
  for (const uri of uris) {
    const resolved = moduleFromUri(uri, search);
    if (resolved !== undefined) fromUris.set(resolved.path, resolved);
  }
  if (fromUris.size > 1) {
    throw new SignerError('USAGE', `the certificate and key URIs name different PKCS#11 modules (${[...fromUris.keys()].join(', ')}): both must live on one module, or pass --pkcs11-lib`);
  }
  const [only] = fromUris.values();
  if (only !== undefined) return only;

  const proxy = search.proxyCandidates.find((candidate) => search.kindOf(candidate) === 'file');
  // A bare name lets the dynamic loader search its own paths (LD_LIBRARY_PATH, ld.so.cache).
  return { path: proxy ?? proxyFileName(search.platform), origin: 'p11-kit-proxy' };
}

function moduleFromUri(uri: Pkcs11Uri, search: ModuleSearch): ResolvedModule | undefined {
  const { modulePath, moduleName } = uri;
  if (modulePath !== undefined) {
    const kind = search.kindOf(modulePath);
    if (kind === 'directory') {
      if (moduleName === undefined) {
        throw new SignerError('USAGE', `module-path=${modulePath} is a directory: add module-name=<name> to pick the module in it, or give the module file itself`);
      }
      const found = findInDirectory(modulePath, moduleName, search);
      if (found === undefined) {
        throw new SignerError('PKCS11_MODULE_LOAD_FAILED', `no PKCS#11 module named "${moduleName}" in ${modulePath}: check module-name, or give the module file in module-path`);
      }
      return { path: found, origin: 'module-path' };
    }
    // A missing file is reported by the loader, with the path, when it fails to open it.
    return { path: modulePath, origin: 'module-path' };
  }
  if (moduleName === undefined) return undefined;
  if (moduleName.includes('/')) {
    throw new SignerError('USAGE', `module-name=${moduleName} must be a name without a path: use module-path for a file`);
  }
  for (const dir of search.registrationDirs) {
    const text = search.readText(join(dir, `${moduleName}.module`));
    const declared = text === undefined ? undefined : registeredModule(text);
    if (declared !== undefined) {
      // p11-kit resolves relative "module:" values against its module directory.
      const path = declared.startsWith('/') ? declared : search.moduleDirs.map((d) => join(d, declared)).find((p) => search.kindOf(p) === 'file') ?? declared;
      return { path, origin: 'module-name' };
    }
  }
  for (const dir of search.moduleDirs) {
    const found = findInDirectory(dir, moduleName, search);
    if (found !== undefined) return { path: found, origin: 'module-name' };
  }
  throw new SignerError('PKCS11_MODULE_LOAD_FAILED', `no PKCS#11 module named "${moduleName}" is registered with p11-kit or installed in ${search.moduleDirs.join(', ')}: install it, or pass --pkcs11-lib /path/to/module`);
}

/** The `module:` line of a p11-kit registration file. */
function registeredModule(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const match = /^\s*module\s*:\s*(\S.*?)\s*$/.exec(line);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

function findInDirectory(dir: string, name: string, search: ModuleSearch): string | undefined {
  const suffix = search.platform === 'darwin' ? '.dylib' : search.platform === 'win32' ? '.dll' : '.so';
  for (const file of [name, `${name}${suffix}`, `lib${name}${suffix}`]) {
    const path = join(dir, file);
    if (search.kindOf(path) === 'file') return path;
  }
  return undefined;
}

function proxyFileName(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? 'p11-kit-proxy.dylib' : platform === 'win32' ? 'p11-kit-proxy.dll' : 'p11-kit-proxy.so';
}

const MULTIARCH: Partial<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** The places Linux distributions and Homebrew put p11-kit and PKCS#11 modules. */
export function systemModuleSearch(platform: NodeJS.Platform = process.platform, arch: string = process.arch, home: string = homedir()): ModuleSearch {
  const multiarch = MULTIARCH[arch];
  const libDirs = [
    ...(multiarch !== undefined ? [`/usr/lib/${multiarch}`] : []),
    '/usr/lib64', '/usr/lib', '/usr/local/lib',
    ...(platform === 'darwin' ? ['/opt/homebrew/lib', '/usr/local/opt/p11-kit/lib'] : []),
  ];
  return {
    kindOf,
    readText: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    platform,
    registrationDirs: [join(home, '.config', 'pkcs11', 'modules'), '/etc/pkcs11/modules', '/usr/share/p11-kit/modules', '/opt/homebrew/share/p11-kit/modules', '/usr/local/share/p11-kit/modules'],
    moduleDirs: libDirs.map((dir) => join(dir, 'pkcs11')),
    proxyCandidates: libDirs.flatMap((dir) => [join(dir, proxyFileName(platform)), join(dir, 'p11-kit', proxyFileName(platform))]),
  };
}

function kindOf(path: string): 'file' | 'directory' | undefined {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}
