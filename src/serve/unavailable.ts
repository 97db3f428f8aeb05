import { isSignerError } from '../errors.js';

/** The message of a 500 answer: SignerError messages are secret-free by rule; others are not shown. */
export function describeUnavailable(error: unknown): string {
  if (isSignerError(error)) return error.message;
  return 'no valid credentials: an unexpected error occurred; see the server log';
}
