import { readUserFile } from '../files/read-user-file.js';
import type { DebugLog } from '../debug.js';
import type { KeyOptions, ResolvedKeyOptions as GenericResolvedKeyOptions } from './descriptor.js';
import { claimKeyOptions, keySourceFor, type KeySpec } from './registry.js';
import type { KeySource } from './types.js';

export type { KeySource, KeyType, SignDigest } from './types.js';
export type { FileKeySpec, Pkcs11KeySpec, TpmKeySpec } from './spec.js';
export type { KeySpec } from './registry.js';
export type { KeyOptions } from './descriptor.js';
export type ResolvedKeyOptions = GenericResolvedKeyOptions<KeySpec>;
export { isPkcs11Uri } from './pkcs11/descriptor.js';

/**
 * The one place that opens a key source. Each kind's implementation is imported by its
 * descriptor's load(), so a file-key user never loads the PKCS#11 binding and a PKCS#11 user
 * never loads the TPM layer.
 */
export async function openKeySource(spec: KeySpec, options: { readonly debug?: DebugLog } = {}): Promise<KeySource> {
  const implementation = await keySourceFor(spec).load();
  return implementation.open(spec, options.debug === undefined ? {} : { debug: options.debug });
}

/** The flags resolved to one source's spec (see claimKeyOptions in registry.ts). */
export function resolveKeyOptions(options: KeyOptions, readFile: (path: string) => Buffer = readUserFile): ResolvedKeyOptions {
  return claimKeyOptions(options, readFile);
}
