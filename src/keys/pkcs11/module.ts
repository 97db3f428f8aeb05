import { realpathSync, statSync } from 'node:fs';
import type * as Pkcs11js from 'pkcs11js';
import { SignerError } from '../../errors.js';
import { loadPkcs11Binding } from './binding.js';
import { CKF } from './constants.js';
import { ckrOf } from './errors.js';
import type { ResolvedModule } from './module-path.js';

export interface LibraryInfo {
  readonly manufacturer: string;
  readonly description: string;
  readonly version: { readonly major: number; readonly minor: number };
}

/**
 * A loaded, initialized PKCS#11 module shared by everything in this process that uses the same
 * library file. PKCS#11 state is per process (C_Initialize, logins), so two key sources on one
 * module must share it: the module is initialized once, and finalized only by whoever
 * initialized it, when the last user releases it.
 */
export interface LoadedModule {
  readonly path: string;
  readonly lib: Pkcs11js.PKCS11;
  /** C_GetInfo, read on first use: only URIs with library-* attributes and `list` need it. */
  library(): LibraryInfo;
  /** Slots this process is logged in to as the user (logins are per token and process). */
  readonly loggedIn: Set<bigint>;
  /** Open sessions per slot: closing a token's last session logs the application out. */
  readonly sessions: Map<bigint, number>;
  /** True when the next release finalizes the module (which closes every session itself). */
  finalizesOnRelease(): boolean;
  /** Gives this user's share back; the last release finalizes (when we initialized) and unloads. */
  release(): void;
}

interface Shared {
  readonly lib: Pkcs11js.PKCS11;
  readonly initializedHere: boolean;
  readonly loggedIn: Set<bigint>;
  readonly sessions: Map<bigint, number>;
  info: LibraryInfo | undefined;
  users: number;
}

const loaded = new Map<string, Shared>();

export function acquireModule(resolved: ResolvedModule): LoadedModule {
  const key = canonicalPath(resolved.path);
  let shared = loaded.get(key);
  if (shared === undefined) {
    shared = loadAndInitialize(resolved);
    loaded.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    path: resolved.path,
    lib: entry.lib,
    loggedIn: entry.loggedIn,
    sessions: entry.sessions,
    library() {
      if (entry.info === undefined) {
        const info = entry.lib.C_GetInfo();
        entry.info = { manufacturer: padded(info.manufacturerID), description: padded(info.libraryDescription), version: info.libraryVersion };
      }
      return entry.info;
    },
    finalizesOnRelease: () => !released && entry.users === 1 && entry.initializedHere,
    release() {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users > 0) return;
      loaded.delete(key);
      try {
        if (entry.initializedHere) entry.lib.C_Finalize();
      } catch {
        // finalize fails only when something else finalized first; nothing is left to free
      }
      try {
        entry.lib.close();
      } catch {
        // unloading is best effort; the process is usually about to exit
      }
    },
  };
}

/** PKCS#11 pads its fixed-size text fields with blanks (and some modules with NULs). */
export function padded(text: string): string {
  return text.replace(/[\s\0]+$/, '');
}

function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * p11-kit-proxy loads every registered module, tpm2-pkcs11 among them on many distributions;
 * on a machine without a TPM its TSS library prints a dozen ERROR:tcti lines to stderr, which
 * buries our one-line errors and alarms users. TSS2_LOG is read by that library when it loads,
 * so it is set (only when the user has not set it) before any module is loaded.
 */
function quietTpmSoftwareStack(): void {
  if (process.env['TSS2_LOG'] === undefined) process.env['TSS2_LOG'] = 'all+NONE';
}

function loadAndInitialize(resolved: ResolvedModule): Shared {
  const binding = loadPkcs11Binding();
  quietTpmSoftwareStack();
  refuseNonRegularFile(resolved);
  const lib = new binding.PKCS11();
  try {
    lib.load(resolved.path);
  } catch (cause) {
    throw new SignerError('PKCS11_MODULE_LOAD_FAILED', loadFailureMessage(resolved, cause), { cause });
  }
  let initializedHere = true;
  try {
    // OS locking: C_Sign runs on a worker thread (async) while the event loop may call in.
    lib.C_Initialize({ flags: CKF.OS_LOCKING_OK });
  } catch (cause) {
    if (ckrOf(cause) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      initializedHere = false;
    } else {
      try {
        lib.close();
      } catch {
        // already failing; the initialization error is the one to report
      }
      throw new SignerError('PKCS11_MODULE_LOAD_FAILED', `the PKCS#11 module ${resolved.path} failed to initialize (${ckrOf(cause) ?? describe(cause)}): check its configuration (for SoftHSM: SOFTHSM2_CONF and its token directory)`, { cause });
    }
  }
  return { lib, initializedHere, loggedIn: new Set(), sessions: new Map(), info: undefined, users: 0 };
}

/** dlopen() of a FIFO blocks until a writer appears, of a device reads forever: refuse first. */
function refuseNonRegularFile(resolved: ResolvedModule): void {
  let info;
  try {
    info = statSync(resolved.path);
  } catch {
    return; // missing, or a bare name for the loader's search path: dlopen reports it
  }
  if (info.isFile()) return;
  const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO (named pipe)' : info.isCharacterDevice() ? 'a character device' : 'not a regular file';
  throw new SignerError('PKCS11_MODULE_LOAD_FAILED', `cannot load the PKCS#11 module ${resolved.path} (from ${resolved.origin}): it is ${kind}; pass the module's .so file (e.g. libykcs11.so, opensc-pkcs11.so, libsofthsm2.so)`);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message.split('\n')[0] ?? '' : String(cause);
}

function loadFailureMessage(resolved: ResolvedModule, cause: unknown): string {
  const reason = describe(cause);
  const how = resolved.origin === 'p11-kit-proxy'
    ? 'no --pkcs11-lib and no module-path in the URI, so p11-kit-proxy was tried: install p11-kit or pass --pkcs11-lib /path/to/module.so'
    : /C_GetFunctionList/.test(reason)
      ? 'the file is a library but not a PKCS#11 module: pass the vendor\'s PKCS#11 module (e.g. libykcs11.so, opensc-pkcs11.so, libsofthsm2.so)'
      : /No such file/i.test(reason)
        ? 'the file does not exist: check the path'
        : 'it is not a loadable PKCS#11 module for this system: check the path and the architecture';
  return `cannot load the PKCS#11 module ${resolved.path} (from ${resolved.origin}): ${reason.replace(`${resolved.path}: `, '')}; ${how}`;
}
