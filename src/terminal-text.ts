/**
 * Text that a server or a file supplied (an error message from CreateSession, a line of a
 * config file) must not steer the user's terminal: ESC/CSI/OSC sequences can retitle windows,
 * hide text or write hyperlinks, BEL rings, CR overwrites the line, and bidi overrides make
 * "exe.txt" read as "txt.exe" (CVE-2021-42574, "Trojan Source"). Whitespace controls become a
 * space so the text stays one line; every other control, C1 and bidi character is dropped.
 */
const WHITESPACE_CONTROLS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
// C0 except the whitespace above, DEL, C1, and the Unicode bidi controls (ALM, LRM, RLM,
// LRE..RLO, LRI..PDI) plus the zero-width characters that hide text.
const UNSAFE_CHARACTERS = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** The printable, one-line form of untrusted text, cut to `maxLength` characters. */
export function toTerminalText(text: string, maxLength = 1000): string {
  const printable = text.replace(WHITESPACE_CONTROLS, ' ').replace(UNSAFE_CHARACTERS, '');
  if (printable.length <= maxLength) return printable;
  return `${printable.slice(0, Math.max(0, maxLength - 3))}...`;
}

