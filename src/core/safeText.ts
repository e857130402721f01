/**
 * Escaping for every text format Layerscope writes, in one place (issue 11): names, op types, producers and paths
 * come from files a user may have downloaded, and must not be able to drive a terminal, break a Markdown table, inject
 * HTML or a link, or become a spreadsheet formula.
 */

/**
 * Characters that must never reach a terminal raw: C0 controls (ESC, BEL, CR, backspace…), DEL, C1 controls (CSI is
 * 0x9b), the Unicode line and paragraph separators, and the bidirectional controls that reorder what is displayed
 * (U+202E and friends). Tab and newline are handled by the callers that allow them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_OR_LINE_BREAK = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `\u001b` for ESC: the JSON spelling, so that escaping text that is already JSON leaves it valid and equal. */
function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Text for a terminal, keeping its newlines and tabs: every other control or bidi character becomes `\uXXXX`. Applied
 * to everything the CLI writes; JSON output is unchanged by it except that such characters, which JSON may carry raw,
 * are written as the equivalent escape.
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** One field on one line (a node name in a table, a path in a header): line breaks and tabs are escaped too. */
export function singleLineField(text: string): string {
  return text.replace(UNSAFE_OR_LINE_BREAK, escapeChar);
}

/** Characters that would change what a cell shows: pipes, code, emphasis, HTML and entities, and the `]` of a link. */
const MARKDOWN_SPECIAL = /[\\|`*_~<>&]|\](?=[([:])/g;
const MARKDOWN_ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

/**
 * A value inside a Markdown table cell or list item: on one line, pipes escaped so columns stay columns, and every
 * character that could start emphasis, code, a link (`[x](javascript:…)`, `![x](…)`, `[x]: …`) or HTML (`<script>`,
 * `<img onerror>`) escaped, so renderers show the text exactly as it is in the model. A `]` is escaped only where a
 * link could follow it, so shapes such as [1, 3, 224, 224] stay readable in the raw text.
 */
export function markdownText(text: string): string {
  return singleLineField(text).replace(MARKDOWN_SPECIAL, (c) => MARKDOWN_ENTITIES[c] ?? `\\${c}`);
}

/**
 * A CSV field: RFC 4180 quoting, and OWASP's rule against formula injection: a text cell that starts with
 * = + - @, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it instead of evaluating it.
 * Numbers are written as they are.
 */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** An error message on one line of stderr: line breaks and the space around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim();
}
