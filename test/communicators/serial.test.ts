import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, someItem, noItem, everyItem, isInstance } from '../helpers/assert-values.js';
import { Duplex, PassThrough } from 'node:stream';
import { scriptArgv, WRITE_SCRIPT } from '../../src/communicators/command.js';
import { SerialCommandError, SerialCommunicator } from '../../src/communicators/serial.js';
import { RUN_FUNCTION, commandLines, parseFrame, setupLine } from '../../src/communicators/serial-framing.js';
import { run } from '../../src/exec/run.js';
import { formatProbeOutput, probe, unwrapProbe } from '../../src/communicators/probe.js';

/*
 * A fake guest on the other end of the console: getty, login and a shell that understands only
 * what SerialCommunicator types. It decodes the base64 tokens as the guest's shell function would
 * and answers from canned replies, cutting its output into small chunks with \r\n line ends and
 * kernel messages between lines, as a real console does.
 */

interface Reply {
  stdout?: string;
  stderr?: string;
  status?: number;
}

type Responder = (argv: string[], input: string) => Reply;

const NOISE = '[   12.345678] random: crng init done';

function decodeToken(token: string): string {
  assert.match(token, /^x[A-Za-z0-9+/=]*$/);
  return Buffer.from(token.slice(1), 'base64').toString('utf8');
}

function base64Lines(text: string): string[] {
  return Buffer.from(text).toString('base64').match(/.{1,76}/g) ?? [];
}

class FakeGuest {
  readonly stream: Duplex;
  /** Every line typed at the console, in order. */
  readonly typed: string[] = [];
  /** Every command the shell ran, decoded. */
  readonly ran: Array<{ argv: string[]; input: string }> = [];
  chunkSize = 7;
  noise = true;
  garble = false;
  private readonly out = new PassThrough();
  private readonly inbox = new PassThrough();
  private state: 'user' | 'password' | 'shell' = 'user';
  private partial = '';
  private readonly stored = new Map<string, string>();
  private busy = false;

  constructor(private readonly respond: Responder, private readonly password = 'secret') {
    this.stream = Duplex.from({ readable: this.out, writable: this.inbox });
    this.inbox.setEncoding('utf8').on('data', (s: string) => this.receive(s));
  }

  /** Writes like a UART: a few bytes at a time, on later ticks. */
  send(text: string): void {
    for (let i = 0; i < text.length; i += this.chunkSize) {
      const piece = text.slice(i, i + this.chunkSize);
      setImmediate(() => this.out.write(piece));
    }
  }

  close(): void {
    setImmediate(() => this.out.end());
  }

  private receive(text: string): void {
    const parts = (this.partial + text).split('\r');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line.replace(/^\x03/, ''));
  }

  private line(line: string): void {
    this.typed.push(line);
    if (line === '') return;
    if (this.state === 'user') {
      this.state = 'password';
      this.send('\r\nPassword: ');
    } else if (this.state === 'password') {
      const ok = line === this.password;
      this.state = ok ? 'shell' : 'user';
      this.send(ok ? '\r\nLinux web1 6.1.0-28-amd64\r\n\r\nLast login: never\r\n\x1b[?2004hroot@web1:~# ' : '\r\n\r\nLogin incorrect\r\nweb1 login: ');
    } else {
      this.shell(line);
    }
  }

  private shell(line: string): void {
    const ready = / READY ([0-9a-f]+)$/.exec(line);
    if (line.startsWith('stty -echo') && ready) return this.send(`__VMGEN_READY_${ready[1]}__\r\n`);
    const chunk = /^printf %s '([x A-Za-z0-9+/=]*)' (>>?) \/tmp\/\.vmgen-([0-9a-f]+)\.args && printf '__VMGEN_%s_%s_%s__\\n' ACK ([0-9a-f]+) (\d+)$/.exec(line);
    if (chunk) {
      const [, piece = '', op, nonce = ''] = chunk;
      this.stored.set(nonce, (op === '>' ? '' : this.stored.get(nonce) ?? '') + piece);
      return this.send(`__VMGEN_ACK_${chunk[4]}_${chunk[5]}__\r\n`);
    }
    const call = /^__vmgen_run ([0-9a-f]+) (.+)$/.exec(line);
    if (!call) return this.send(`bash: syntax error: ${line.slice(0, 20)}\r\n`);
    assert.equal(this.busy, false, 'a command was typed while the previous one was running');
    const [, nonce = '', rest = ''] = call;
    const tokens = (rest === '@' ? this.stored.get(nonce) ?? '' : rest).split(' ');
    assert.equal(tokens.length, 2, 'the call carries stdin and the arguments, one token each');
    const [input = '', args = ''] = tokens.map(decodeToken);
    assert.ok(args.endsWith('\0'), 'every argument is NUL-terminated');
    const argv = args.slice(0, -1).split('\0');
    this.ran.push({ argv, input });
    this.busy = true;
    setTimeout(() => {
      this.busy = false;
      this.frame(nonce, this.respond(argv, input));
    }, 5);
  }

  private frame(nonce: string, reply: Reply): void {
    const stdout = reply.stdout ?? '';
    const stderr = reply.stderr ?? '';
    const body = base64Lines(stdout);
    if (this.garble && body.length > 0) body[0] = `${body[0]!.slice(0, 10)}${NOISE}${body[0]!.slice(10)}`;
    const lines = [
      `__VMGEN_BEGIN_${nonce}__`, ...body, `__VMGEN_ERR_${nonce}__`, ...base64Lines(stderr),
      `__VMGEN_END_${nonce}_${reply.status ?? 0}_${Buffer.byteLength(stdout)}_${Buffer.byteLength(stderr)}__`,
    ];
    const withNoise = this.noise ? lines.flatMap((l, i) => (i % 2 === 1 ? [NOISE, l] : [l])) : lines;
    this.send(`${withNoise.join('\r\n')}\r\n`);
  }
}

/** Answers probes as the guest's wrapper would (status in stdout, exit 0), plain commands by their reply. */
function withProbes(respond: Responder): Responder {
  return (argv, input) => {
    const inner = unwrapProbe(argv);
    if (inner === undefined) return respond(argv, input);
    const r = respond(inner, input);
    return { stdout: formatProbeOutput(r.stdout ?? '', r.status ?? 0), stderr: r.stderr ?? '', status: 0 };
  };
}

const BOOT = [
  '\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 "UEFI Misc Device"',
  '[    0.000000] Linux version 6.1.0-28-amd64',
  '[  OK  ] Reached target getty.target - Login Prompts.',
  '',
  'Debian GNU/Linux 12 web1 ttyS0',
  '',
].join('\r\n');

async function loggedIn(respond: Responder = () => ({})): Promise<{ guest: FakeGuest; comm: SerialCommunicator }> {
  const guest = new FakeGuest(withProbes(respond));
  const comm = new SerialCommunicator(guest.stream);
  guest.send(`${BOOT}\r\nweb1 login: \r\n${NOISE}\r\n`);
  assert.equal(await comm.login('root', 'secret', { timeoutMs: 5000 }), 'web1');
  return { guest, comm };
}

/** What may be typed after login: calls of the constant function with base64 tokens, and chunks of them. */
const SAFE_LINE = [
  /^__vmgen_run [0-9a-f]+ (?:@|x[A-Za-z0-9+/=]* x[A-Za-z0-9+/=]*)$/,
  /^printf %s '[x A-Za-z0-9+/=]*' >>? \/tmp\/\.vmgen-[0-9a-f]+\.args && printf '__VMGEN_%s_%s_%s__\\n' ACK [0-9a-f]+ \d+$/,
];

describe('SerialCommunicator', () => {
  it('logs in through kernel noise, types user and password, sets up a quiet shell and returns the prompt hostname', async () => {
    const { guest, comm } = await loggedIn();
    assert.deepEqual(guest.typed.slice(0, 2), ['root', 'secret']);
    assert.match(guest.typed[2]!, /^stty -echo; export PS1= PS2= TERM=dumb; unset PROMPT_COMMAND HISTFILE; /);
    includesAll(guest.typed[2]!, [RUN_FUNCTION]);
    assert.equal(comm.isLoggedIn, true);
    assert.equal(comm.promptHostname, 'web1');
  });

  it('rejects a wrong password with "Login incorrect", after showing the hostname', async () => {
    const guest = new FakeGuest(() => ({}), 'other');
    const comm = new SerialCommunicator(guest.stream);
    guest.send('web1 login: ');
    await assert.rejects(comm.login('root', 'secret', { timeoutMs: 5000 }), /the password of root was refused \(Login incorrect\)/);
    assert.equal(comm.promptHostname, 'web1');
    assert.equal(comm.isLoggedIn, false);
    await assert.rejects(comm.exec(['true']), /not logged in/);
  });

  it('gives up on a login prompt that never comes, and refuses control characters in a password', async () => {
    const guest = new FakeGuest(() => ({}));
    const comm = new SerialCommunicator(guest.stream);
    guest.send(BOOT);
    await assert.rejects(comm.login('root', 'secret', { timeoutMs: 100 }), /no login prompt on the serial console within 0.1 s/);
    assert.throws(() => comm.login('root', 'a\rb', { timeoutMs: 100 }), /control character/);
  });

  it('runs a command with stdin and returns its stdout and stderr, split across chunks with \\r\\n and noise', async () => {
    const { guest, comm } = await loggedIn((argv, input) => (argv[0] === 'cat' ? { stdout: `${input}é\n`, stderr: 'warn\n' } : { status: 127 }));
    guest.chunkSize = 3;
    const long = 'line of text\n'.repeat(40);
    assert.deepEqual(await comm.exec(['cat'], { input: long }), { stdout: `${long}é\n`, stderr: 'warn\n' });
    assert.deepEqual(guest.ran.at(-1), { argv: ['cat'], input: long });
  });

  it('rejects a non-zero status with a CommandError that keeps the status, stdout and stderr', async () => {
    const { comm } = await loggedIn(() => ({ stdout: 'activating\n', stderr: 'oops\n', status: 3 }));
    const err = await comm.exec(['systemctl', 'is-active', 'apache2']).then(() => undefined, (e: unknown) => e);
    isInstance(err, SerialCommandError);
    assert.equal(err.exitCode, 3);
    assert.equal(err.stdout, 'activating\n');
    assert.equal(err.stderr, 'oops\n');
  });

  it('serves probe(): the status comes back in stdout, whatever the command exited with', async () => {
    const { comm } = await loggedIn((argv) => (argv[0] === 'getent' ? { status: 2 } : { stdout: 'web1\n' }));
    assert.deepEqual(await probe(comm, ['getent', 'group', 'nosuch']), { exitCode: 2, stdout: '', stderr: '' });
    assert.deepEqual(await probe(comm, ['hostname']), { exitCode: 0, stdout: 'web1\n', stderr: '' });
  });

  it('passes hostile arguments decoded intact, and types nothing but base64 tokens and the constant call', async () => {
    const { guest, comm } = await loggedIn((argv) => ({ stdout: argv.join('|') }));
    const hostile = ['printf', '%s', 'a;reboot', '$(id)', '`id`', "'; reboot; '", 'two\nlines\n', '', ' spaced ', '--'];
    assert.equal((await comm.exec(hostile)).stdout, hostile.join('|'));
    assert.deepEqual(guest.ran.at(-1)?.argv, hostile);
    const after = guest.typed.slice(3);
    assert.notEqual(after.length, 0);
    for (const line of after) {
      assert.ok(SAFE_LINE.some((re) => re.test(line)), `typed an unsafe line: ${line}`);
      assert.doesNotMatch(line, /reboot|\$\(|`/);
    }
  });

  it('sends a long payload in chunks that each fit a tty line, and runs it as one command', async () => {
    const { guest, comm } = await loggedIn(() => ({}));
    const content = 'x'.repeat(20_000);
    await comm.writeFile('/etc/big file;reboot', content, 0o600);
    assert.deepEqual(guest.ran.at(-1), { argv: scriptArgv(WRITE_SCRIPT, ['/etc/big file;reboot', '600']), input: Buffer.from(content).toString('base64') });
    const typed = guest.typed.slice(3);
    assert.ok(typed.length > 10, `${typed.length} lines typed`);
    everyItem(typed, (l) => l.length < 4096 && SAFE_LINE.some((re) => re.test(l)));
  });

  it('runs concurrent commands one at a time, in the order they were asked', async () => {
    const { guest, comm } = await loggedIn((argv) => ({ stdout: argv[1] ?? '' }));
    const outs = await Promise.all(['a', 'b', 'c', 'd'].map((x) => comm.exec(['echo', x])));
    assert.deepEqual(outs.map((o) => o.stdout), ['a', 'b', 'c', 'd']);
    assert.deepEqual(guest.ran.map((r) => r.argv[1]), ['a', 'b', 'c', 'd']);
  });

  it('refuses output a kernel message landed inside, instead of returning it corrupted', async () => {
    const { guest, comm } = await loggedIn(() => ({ stdout: 'y'.repeat(300) }));
    guest.garble = true;
    await assert.rejects(comm.exec(['cat', '/etc/motd']), /garbled/);
    guest.garble = false;
    assert.equal((await comm.exec(['cat', '/etc/motd'])).stdout, 'y'.repeat(300));
  });

  it('powers off by typing the command, without waiting for an answer', async () => {
    const { guest, comm } = await loggedIn();
    comm.poweroff();
    await new Promise((r) => setImmediate(r));
    assert.equal(guest.typed.at(-1), 'systemctl poweroff || poweroff');
  });

  it('refuses an argument with a NUL byte, which no command could receive', async () => {
    const { comm } = await loggedIn();
    await assert.rejects(comm.exec(['printf', 'a\0b']), /NUL byte/);
  });

  it('rejects pending and later commands when the console closes', async () => {
    const { guest, comm } = await loggedIn(() => ({}));
    guest.close();
    await assert.rejects(comm.exec(['true']), /serial console closed/);
  });

  it("keeps the console's last lines, without escape sequences or command output", async () => {
    const { guest, comm } = await loggedIn(() => ({ stdout: 'z'.repeat(500) }));
    await comm.exec(['cat', 'f']);
    for (let i = 0; i < 300; i++) guest.send(`[ ${i}] message ${i}\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    const tail = comm.tail();
    assert.equal(tail.length, 200);
    assert.equal(tail.at(-1), '[ 299] message 299');
    noItem(tail, (l) => l.includes('\x1b'));
  });

  it('tail() leaves out an end marker whose line has not ended yet', async () => {
    const guest = new FakeGuest(() => ({}));
    const comm = new SerialCommunicator(guest.stream);
    guest.send('boot line\r\n__VMGEN_BEGIN_ab__\r\nQUJD\r\n__VMGEN_ERR_ab__\r\n__VMGEN_END_ab_0_3_0__');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(comm.tail(), ['boot line']);
  });

  it('tail() after a boot shows the boot, and hides base64 lines between markers', async () => {
    const { comm } = await loggedIn(() => ({ stdout: 'q'.repeat(500) }));
    await comm.exec(['cat', 'f']);
    const tail = comm.tail();
    includesAll(tail, ['Debian GNU/Linux 12 web1 ttyS0']);
    someItem(tail, (l) => l.startsWith('BdsDxe'), 'line starting BdsDxe');
    noItem(tail, (l) => /^[A-Za-z0-9+/]{60,}$/.test(l));
  });
});

describe('the guest side of the protocol, in real shells', () => {
  const HOSTILE = ['printf', '[%s]\\n', 'a;reboot', '$(id)', '`id`', "'q'", 'two\nlines\n\n', '', '-n', '*'];

  for (const shell of ['dash', 'bash']) {
    it(`${shell}: RUN_FUNCTION decodes every argument intact, feeds stdin, and reports status and byte counts`, async () => {
      const { call } = commandLines('0a1b', HOSTILE);
      const out = await run([shell, '-c', `${RUN_FUNCTION}; ${call}`], { cwd: '/' });
      const frame = parseFrame(out.stdout, '0a1b')?.frame;
      assert.equal(frame?.status, 0);
      assert.equal(frame?.stdout.toString(), HOSTILE.slice(2).map((a) => `[${a}]\n`).join(''));

      const cat = commandLines('0c', ['sh', '-c', 'cat; echo err >&2; exit 3'], 'x'.repeat(9000));
      assert.ok(cat.chunks.length > 1, `${cat.chunks.length} chunk`);
      const catOut = await run([shell, '-c', [RUN_FUNCTION, ...cat.chunks, cat.call].join('\n')], { cwd: '/' });
      const catFrame = parseFrame(catOut.stdout, '0c')?.frame;
      assert.deepEqual([catFrame?.status, catFrame?.stdout.toString(), catFrame?.stderr.toString()], [3, 'x'.repeat(9000), 'err\n']);
    });
  }

  it('the setup line and every command line stay within a tty line', () => {
    assert.ok(setupLine('0123456789abcdef').length < 4095, `${setupLine('0123456789abcdef').length} characters`);
    everyItem(commandLines('0123456789abcdef', ['a'.repeat(3000)]).chunks, (l) => l.length < 4095);
  });

  it("reports the command's own status, even 255, and closes the status descriptor before running it", async () => {
    const script = 'test -e /proc/self/fd/3 && echo fd3 open; exit 255';
    const out = await run(['sh', '-c', `${RUN_FUNCTION}; ${commandLines('5e', ['sh', '-c', script]).call}`], { cwd: '/' });
    const frame = parseFrame(out.stdout, '5e')?.frame;
    assert.deepEqual([frame?.status, frame?.stdout.toString()], [255, '']);
  });

  it('a command the guest lacks exits 127, as probe() expects of a missing program', async () => {
    const out = await run(['sh', '-c', `${RUN_FUNCTION}; ${commandLines('7f', ['vmgen-no-such-program']).call}`], { cwd: '/' });
    assert.equal(parseFrame(out.stdout, '7f')?.frame.status, 127);
  });
});
