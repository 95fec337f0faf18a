import { GUEST_ENV } from './command.js';

/*
 * The serial console's framing: the text typed to run one command and the parsing of its answer.
 * Pure, so tests drive it with a real shell or a fake guest.
 *
 *   - Nothing from the caller is ever typed as shell text. The arguments (NUL-terminated) and
 *     stdin travel as two base64 tokens ([A-Za-z0-9+/=], prefixed with "x" so an empty value is
 *     still a word), given to a constant shell function defined once after login, which decodes
 *     them and hands the arguments to xargs -0 as data.
 *   - The guest answers with markers around base64 of stdout and stderr, and ends with the exit
 *     status and both byte counts. Markers are printed from a printf format, so the echo of a
 *     command line never contains one; the byte counts catch a kernel message that landed inside
 *     the output.
 */

/** A tty in canonical mode drops what goes past 4095 bytes of a line; longer payloads go in chunks. */
const MAX_LINE = 2000;

export function marker(kind: string, nonce: string): string {
  return `__VMGEN_${kind}_${nonce}__`;
}

/** printf's arguments for a marker: the format holds `%s` where the kind and nonce go. */
const MARK_FORMAT = "'__VMGEN_%s_%s__\\n'";

function guestEnvWords(): string {
  return Object.entries(GUEST_ENV).map(([k, v]) => {
    const word = `${k}=${v}`;
    // Constants of vmgen's own; the check keeps a future value from needing shell quoting.
    if (!/^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:/-]*$/.test(word)) throw new Error(`GUEST_ENV entry needs quoting: ${word}`);
    return word;
  }).join(' ');
}

/**
 * `__vmgen_run NONCE INPUT ARGV` (or `NONCE @` to read both from the chunk file): INPUT is stdin,
 * ARGV the arguments, each NUL-terminated, both base64. xargs -0 turns the decoded arguments into
 * argv as they are, with no shell in between; `-a` leaves the command's stdin free for the input,
 * and the inner sh records the command's own status on fd 3 (xargs would fold it into 123). One
 * decode per command, not one per argument: each process costs tens of milliseconds under TCG.
 * A subshell body, so `set -f` and the variables stay out of the login shell.
 */
export const RUN_FUNCTION = [
  '__vmgen_run() ( n=$1; umask 077; set -f; unset IFS',
  'f=/tmp/.vmgen-$n.args; if [ "$2" = @ ]; then read -r i a < "$f"; rm -f "$f"; else i=$2; a=$3; fi',
  `d=$(mktemp -d /tmp/.vmgen-XXXXXXXX) || { printf '__VMGEN_%s_%s__\\n__VMGEN_%s_%s__\\n__VMGEN_%s_%s_%s_%s_%s__\\n' BEGIN "$n" ERR "$n" END "$n" 125 0 0; exit; }`,
  ': > "$d/in"; [ "$i" = x ] || printf %s "${i#x}" | base64 -d > "$d/in"',
  'printf %s "${a#x}" | base64 -d > "$d/argv"',
  `xargs -0 -x -a "$d/argv" env -i ${guestEnvWords()} sh -c '"$@" 3>&-; echo $? >&3' vmgen < "$d/in" > "$d/out" 2> "$d/err" 3> "$d/s"`,
  's=126; if [ -s "$d/s" ]; then read -r s < "$d/s"; fi',
  `printf ${MARK_FORMAT} BEGIN "$n"; if [ -s "$d/out" ]; then base64 "$d/out"; fi; printf ${MARK_FORMAT} ERR "$n"; if [ -s "$d/err" ]; then base64 "$d/err"; fi`,
  'set -- $(wc -c "$d/out" "$d/err")',
  `printf '__VMGEN_%s_%s_%s_%s_%s__\\n' END "$n" "$s" "$1" "$3"; rm -rf "$d" )`,
].join('; ');

/** Typed once after login: a shell that echoes nothing, prompts with nothing and keeps no history. */
export function setupLine(nonce: string): string {
  return [
    'stty -echo', 'export PS1= PS2= TERM=dumb', 'unset PROMPT_COMMAND HISTFILE',
    // Kernel messages on the console would land inside command output.
    'dmesg -n 1 2>/dev/null', RUN_FUNCTION, `printf ${MARK_FORMAT} READY ${nonce}`,
  ].join('; ');
}

export function encodeToken(value: string | Uint8Array): string {
  return `x${Buffer.from(value).toString('base64')}`;
}

export interface CommandLines {
  /** Lines that store a long payload in the guest, each answered by an ACK marker (`ackMarker`). */
  chunks: string[];
  /** The line that runs the command. */
  call: string;
}

export function ackMarker(nonce: string, index: number): string {
  return marker('ACK', `${nonce}_${index}`);
}

/** The console lines that run argv with input: base64 tokens and constant text, nothing else. */
export function commandLines(nonce: string, argv: readonly string[], input: string | Uint8Array = ''): CommandLines {
  if (argv.some((a) => a.includes('\0'))) throw new Error('an argument contains a NUL byte, which no command can receive');
  const payload = `${encodeToken(input)} ${encodeToken(argv.map((a) => `${a}\0`).join(''))}`;
  if (payload.length <= MAX_LINE) return { chunks: [], call: `__vmgen_run ${nonce} ${payload}` };
  const chunks: string[] = [];
  for (let i = 0, at = 0; at < payload.length; i++, at += MAX_LINE) {
    // Base64, "x" and a space only, so single quotes hold any piece as is.
    const piece = payload.slice(at, at + MAX_LINE);
    chunks.push(`printf %s '${piece}' ${i === 0 ? '>' : '>>'} /tmp/.vmgen-${nonce}.args && printf '__VMGEN_%s_%s_%s__\\n' ACK ${nonce} ${i}`);
  }
  return { chunks, call: `__vmgen_run ${nonce} @` };
}

export interface Frame {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

export const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 lines only: whatever else the console printed between two markers is not output. */
function decodeLines(text: string): Buffer {
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => BASE64_LINE.test(l));
  return Buffer.from(lines.join(''), 'base64');
}

/**
 * Finds the frame of the command with this nonce in console text. Undefined while its end marker
 * has not arrived; `end` is where the frame ends, so the caller can drop what it has read.
 */
export function parseFrame(text: string, nonce: string, from = 0): { frame: Frame; end: number } | undefined {
  const endRe = new RegExp(`__VMGEN_END_${nonce}_(\\d+)_(\\d+)_(\\d+)__`, 'g');
  endRe.lastIndex = from;
  const m = endRe.exec(text);
  if (m === null) return undefined;
  const begin = text.lastIndexOf(marker('BEGIN', nonce), m.index);
  const err = text.lastIndexOf(marker('ERR', nonce), m.index);
  if (begin < 0 || err < begin) throw new Error('the console lost the start of a command\'s output');
  const stdout = decodeLines(text.slice(begin + marker('BEGIN', nonce).length, err));
  const stderr = decodeLines(text.slice(err + marker('ERR', nonce).length, m.index));
  if (stdout.length !== Number(m[2]) || stderr.length !== Number(m[3])) {
    throw new Error(`the console garbled a command's output (${stdout.length} of ${m[2]} bytes of stdout, ${stderr.length} of ${m[3]} of stderr arrived)`);
  }
  return { frame: { status: Number(m[1]), stdout, stderr }, end: m.index + m[0].length };
}
