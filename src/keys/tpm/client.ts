import { setTimeout as delay } from 'node:timers/promises';
import { SignerError, isSignerError, type SignerErrorCode } from '../../errors.js';
import { TPM_CAP, TPM_HT } from './constants.js';
import { buildCommand, parseResponseBody, parseResponseHeader } from './marshal.js';
import {
  flushContextCommand,
  getCapabilityCommand,
  startupCommand,
  type TpmCommand,
} from './commands.js';
import { TPM_RC, decodeResponseCode, type DecodedResponseCode } from './response-code.js';
import type { TpmTransport } from './transport.js';

/**
 * The failure a TPM reported, kept as the `cause` of a SignerError so callers can react to
 * the exact response code (a stale handle, a missing parent) without parsing messages.
 */
export interface TpmResponseFailure {
  readonly kind: 'tpm-response';
  readonly command: string;
  readonly responseCode: DecodedResponseCode;
  toString(): string;
}

export function tpmFailureOf(error: unknown): TpmResponseFailure | undefined {
  if (!isSignerError(error)) return undefined;
  const cause = error.cause as Partial<TpmResponseFailure> | undefined;
  return cause?.kind === 'tpm-response' ? (cause as TpmResponseFailure) : undefined;
}

export interface TpmClientOptions {
  /** Attempts for TPM_RC_RETRY, TPM_RC_YIELDED and TPM_RC_TESTING before giving up. */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_ATTEMPTS = 8;
// The TPM asked to be asked again: it did not run the command, so resending is safe.
const RETRYABLE = new Set<number>([TPM_RC.RETRY, TPM_RC.YIELDED, TPM_RC.TESTING]);

/**
 * Sends typed commands over a transport and turns failures into SignerErrors. It also starts
 * a TPM that was reset (TPM_RC_INITIALIZE) and resends the command, so a restarted simulator
 * or a TPM after resume needs nothing from the caller.
 */
export class TpmClient {
  readonly transport: TpmTransport;
  readonly #maxAttempts: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(transport: TpmTransport, options: TpmClientOptions = {}) {
    this.transport = transport;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  async run<Result>(command: TpmCommand<Result>): Promise<Result> {
    let startedTpm = false;
    for (let attempt = 1; ; attempt++) {
      const rc = await this.#send(command);
      if (typeof rc !== 'number') return rc.result;
      if (RETRYABLE.has(rc) && attempt < this.#maxAttempts) {
        await this.#sleep(Math.min(25 * 2 ** (attempt - 1), 1000));
        continue;
      }
      if (rc === TPM_RC.INITIALIZE && !startedTpm && command.name !== 'TPM2_Startup') {
        await this.startup();
        startedTpm = true;
        continue;
      }
      throw tpmCommandError(command.name, rc);
    }
  }

  /** TPM2_Startup(CLEAR); TPM_RC_INITIALIZE means someone already did it. */
  async startup(): Promise<void> {
    try {
      await this.run(startupCommand());
    } catch (error) {
      if (tpmFailureOf(error)?.responseCode.base !== TPM_RC.INITIALIZE) throw error;
    }
  }

  async flush(handle: number): Promise<void> {
    await this.run(flushContextCommand(handle));
  }

  /** Every handle of one type (TPM_HT_TRANSIENT, TPM_HT_PERSISTENT), following moreData. */
  async listHandles(handleType: number): Promise<number[]> {
    const handles: number[] = [];
    let next = (handleType << 24) >>> 0;
    const end = ((handleType + 1) << 24) >>> 0;
    for (;;) {
      const { moreData, data } = await this.run(getCapabilityCommand({ capability: TPM_CAP.HANDLES, property: next, propertyCount: 64 }));
      if (data.capability !== TPM_CAP.HANDLES) throw new SignerError('TPM_TRANSPORT_FAILED', 'TPM2_GetCapability answered another capability');
      const ofType = data.handles.filter((handle) => handle >= next && handle < end);
      handles.push(...ofType);
      const last = ofType.at(-1);
      if (!moreData || last === undefined || ofType.length < data.handles.length) return handles;
      next = last + 1;
    }
  }

  async listTransientHandles(): Promise<number[]> {
    return this.listHandles(TPM_HT.TRANSIENT);
  }

  async #send<Result>(command: TpmCommand<Result>): Promise<{ result: Result } | number> {
    const bytes = buildCommand(command.frame);
    let response: Buffer;
    try {
      response = await this.transport.transmit(bytes);
    } finally {
      // The command may hold a password.
      bytes.fill(0);
    }
    const what = `the ${command.name} response from ${this.transport.description}`;
    const header = parseResponseHeader(response, what);
    if (header.responseCode !== TPM_RC.SUCCESS) return header.responseCode;
    return { result: command.decode(parseResponseBody(response, command.responseHandles, what)) };
  }
}

/** Codes for the failures a user can act on; everything else is TPM_COMMAND_FAILED. */
function codeFor(decoded: DecodedResponseCode): SignerErrorCode {
  if (decoded.base === TPM_RC.AUTH_FAIL || decoded.base === TPM_RC.BAD_AUTH) return 'TPM_AUTH_FAILED';
  if (decoded.base === TPM_RC.LOCKOUT) return 'TPM_LOCKOUT';
  return 'TPM_COMMAND_FAILED';
}

export function tpmCommandError(command: string, rc: number): SignerError {
  const responseCode = decodeResponseCode(rc);
  const failure: TpmResponseFailure = Object.freeze({
    kind: 'tpm-response' as const,
    command,
    responseCode,
    toString: () => `${command}: ${responseCode.text}`,
  });
  return new SignerError(codeFor(responseCode), `${command} failed: ${responseCode.text}`, { cause: failure });
}
