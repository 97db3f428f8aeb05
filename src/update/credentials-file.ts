import { SignerError } from '../errors.js';
import type { Credentials } from '../credentials/types.js';

/** The three keys `update` owns in a profile, in the order they are written when missing. */
const CREDENTIAL_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'] as const;

/**
 * Sets the three credential keys of one profile in the text of an AWS shared credentials file
 * and leaves every other byte as it was: other profiles, other keys of this profile, comments,
 * blank lines, key spelling and spacing, line endings (CRLF files stay CRLF).
 *
 * The text is the file's bytes decoded as latin1 (one char per byte), so bytes that are not
 * UTF-8 survive untouched; the profile name is passed the same way.
 *
 * - A key present in the profile gets its value replaced in place (and any indented
 *   continuation lines of the old value, which INI parsers would append to it, are dropped).
 * - Missing keys are added after the profile's last setting.
 * - A missing profile is appended at the end as `[name]`.
 */
export function setProfileCredentials(text: string, profile: string, credentials: Credentials): string {
  checkProfileName(profile);
  const values: Record<string, string> = {
    aws_access_key_id: checkValue(credentials.accessKeyId),
    aws_secret_access_key: checkValue(credentials.secretAccessKey),
    aws_session_token: checkValue(credentials.sessionToken),
  };
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = splitLines(text);
  const out: string[] = [];
  let inTarget = false;
  let seenTarget = false;
  let firstOccurrence = false;
  const written = new Set<string>();
  /** Index in `out` after which missing keys go: the first occurrence's last setting. */
  let insertAt = -1;
  let skipIndentAbove = -1;

  for (const line of lines) {
    const body = stripEol(line);
    if (skipIndentAbove >= 0) {
      if (body.trim() !== '' && indentOf(body) > skipIndentAbove) continue;
      skipIndentAbove = -1;
    }
    const header = SECTION.exec(body);
    if (header !== null) {
      inTarget = (header[1] ?? '').trim() === profile;
      firstOccurrence = inTarget && !seenTarget;
      if (inTarget) {
        seenTarget = true;
        if (firstOccurrence) insertAt = out.length;
      }
      out.push(line);
      if (firstOccurrence) insertAt = out.length;
      continue;
    }
    if (inTarget) {
      const setting = SETTING.exec(body);
      const key = setting?.[2]?.toLowerCase();
      if (setting !== null && key !== undefined && key in values) {
        out.push(`${setting[1] ?? ''}${setting[2] ?? ''}${setting[3] ?? ''}${values[key] ?? ''}${lineEnding(line)}`);
        if (firstOccurrence) written.add(key);
        skipIndentAbove = indentOf(body);
        if (firstOccurrence) insertAt = out.length;
        continue;
      }
      if (firstOccurrence && body.trim() !== '' && !COMMENT.test(body)) insertAt = out.length + 1;
    }
    out.push(line);
  }

  if (!seenTarget) {
    let result = out.join('');
    if (result !== '' && !result.endsWith('\n')) result += eol;
    if (result !== '') result += eol;
    result += `[${profile}]${eol}`;
    for (const key of CREDENTIAL_KEYS) result += `${key} = ${values[key] ?? ''}${eol}`;
    return result;
  }

  const missing = CREDENTIAL_KEYS.filter((key) => !written.has(key)).map((key) => `${key} = ${values[key] ?? ''}${eol}`);
  if (missing.length > 0) {
    // The line before the insertion point may be the file's last line without a newline.
    const previous = out[insertAt - 1];
    if (previous !== undefined && !previous.endsWith('\n')) out[insertAt - 1] = `${previous}${eol}`;
    out.splice(insertAt, 0, ...missing);
  }
  return out.join('');
}

/** `[name]`, optionally surrounded by blanks, with an optional trailing comment. */
const SECTION = /^\s*\[([^\]\r\n]*)\]\s*(?:[#;].*)?$/;
/** `key = value` or `key: value`; the groups keep the original spelling and spacing. */
const SETTING = /^(\s*)([A-Za-z0-9_.-]+)(\s*[=:][ \t]*)(.*)$/;
const COMMENT = /^\s*[#;]/;

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function stripEol(line: string): string {
  return line.replace(/\r?\n$/, '');
}

/** The line's own terminator; the file's last line may have none, and keeps none. */
function lineEnding(line: string): string {
  if (line.endsWith('\r\n')) return '\r\n';
  return line.endsWith('\n') ? '\n' : '';
}

function indentOf(body: string): number {
  return /^[ \t]*/.exec(body)?.[0].length ?? 0;
}

function checkProfileName(profile: string): void {
  if (profile === '' || /[\]\r\n]/.test(profile) || profile.trim() !== profile) {
    throw new SignerError('USAGE', `--profile ${JSON.stringify(profile)} is not a usable profile name: use a name without brackets, line breaks or surrounding spaces`);
  }
}

function checkValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new SignerError('CREATE_SESSION_BAD_RESPONSE', 'CreateSession returned a credential containing a line break, which cannot be written to a credentials file');
  return value;
}
