import { statSync } from 'node:fs';
import type { PathKind } from './tcti.js';

/** What is at `path`, for resolveTpmTarget: swtpm's UNIX socket, a device or file, or nothing. */
export function pathKindOf(path: string): PathKind {
  try {
    return statSync(path).isSocket() ? 'socket' : 'other';
  } catch {
    return 'missing';
  }
}
