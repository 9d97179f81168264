/**
 * Text from the archive (instance names, folder and object keys, event fields, lease and digest
 * contents) is attacker-controlled to whoever can write the archive. Printed raw at a terminal, its
 * control characters are commands: `ESC [` rewrites or clears the screen, OSC 8 plants hyperlinks,
 * a carriage return overprints a line, and the bidi overrides reorder what is shown (a filename that
 * reads differently from its bytes). Human-readable output goes through {@link printable}; `--json`
 * is left as it is (JSON.stringify already escapes every C0 character, ESC and CR included).
 */

/**
 * C0 controls (tab and newline included: archive text never gets to lay out our lines), DEL, C1, the
 * line and paragraph separators, the bidi embeddings and overrides (U+202A–U+202E) and isolates
 * (U+2066–U+2069), and the implicit direction marks (U+200E, U+200F, U+061C).
 */
function unprintable(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * `text` with every control and bidi formatting character shown as a visible `\uXXXX` escape, the
 * same notation JSON uses, so the characters a line holds are the characters it shows.
 *
 * @example
 * printable('space=\u001b[31mred\u202e'); // the text `space=\u001b[31mred\u202e`, escapes visible
 */
export function printable(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unprintable(code)) continue;
    out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Writes one human-readable line: `line` made printable, then the newline that ends it. */
export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${printable(line)}\n`);
}
