import { SignerError, type SignerErrorCode } from '../errors.js';
import type { KeyOptions, KeySourceDescriptor, KindedSpec, ReadFile, ResolvedKeyOptions } from './descriptor.js';
import { fileKeySource } from './file/descriptor.js';
import { pkcs11KeySource } from './pkcs11/descriptor.js';
import { tpmKeySource } from './tpm/descriptor.js';

/**
 * Every key source, in the order they claim flags: the first whose `claim` accepts them wins.
 * Adding a source is a folder with a descriptor.ts and one line here. The file source comes
 * last because it takes whatever the others leave.
 */
export const KEY_SOURCES = [pkcs11KeySource, tpmKeySource, fileKeySource] as const;

type SpecOf<D> = D extends KeySourceDescriptor<infer Spec> ? Spec : never;

/** What the user asked for, already split by kind; consumed by exactly one source. */
export type KeySpec = SpecOf<(typeof KEY_SOURCES)[number]>;
export type KeyKind = KeySpec['kind'];

/** The descriptor of a spec's kind, typed for it. */
export function keySourceFor<Spec extends KeySpec>(spec: Spec): KeySourceDescriptor<Spec> {
  const descriptor = (KEY_SOURCES as readonly KeySourceDescriptor<KindedSpec>[]).find((candidate) => candidate.kind === spec.kind);
  if (descriptor === undefined) throw new SignerError('INTERNAL', `no key source is registered for kind ${spec.kind}`);
  return descriptor as unknown as KeySourceDescriptor<Spec>;
}

/**
 * Decides the key kind from the flags as the reference helper does: `pkcs11:` URIs (key or
 * certificate) -> PKCS#11; `handle:0x81...` or a PEM file holding a TSS2 PRIVATE KEY -> TPM;
 * any other file -> file key; no key but a certificate -> PKCS#12 file.
 */
export function claimKeyOptions(options: KeyOptions, readFile: ReadFile): ResolvedKeyOptions<KeySpec> {
  for (const source of KEY_SOURCES as readonly KeySourceDescriptor<KeySpec>[]) {
    const resolved = source.claim(options, readFile);
    if (resolved !== undefined) return resolved;
  }
  throw new SignerError('USAGE', 'no key given: pass --private-key (a key file, a pkcs11: URI or handle:0x81...) and --certificate, or --certificate with a PKCS#12 file');
}

/** Every source's authentication failures: never retried (a retry could lock a card or a TPM). */
export const AUTHENTICATION_FAILURE_CODES: ReadonlySet<SignerErrorCode> = new Set(KEY_SOURCES.flatMap((source) => source.authenticationFailureCodes));

/** Every source's "device went away" codes: reopen on the next attempt. */
export const DEVICE_LOST_CODES: ReadonlySet<SignerErrorCode> = new Set(KEY_SOURCES.flatMap((source) => source.deviceLostCodes));

/** The source whose certificates read-certificate-data must ask for this --certificate value, if any. */
export function certificateDiscoveryFor(certificate: string) {
  return KEY_SOURCES.map((source) => ('certificateDiscovery' in source ? source.certificateDiscovery : undefined)).find((discovery) => discovery?.claims(certificate) === true);
}
