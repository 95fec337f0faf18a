import type { GuestCommand, GuestLink } from './types.js';

/** The guest commands of a plan as a readable script-like listing; secrets never appear. */
export function renderCommands(commands: readonly GuestCommand[], links: readonly GuestLink[] = []): string {
  const quote = (a: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  const lines = ['# Run inside the guest root (chroot in private namespaces), in this order.'];
  for (const l of links) lines.push(`ln -sfn ${quote(l.target)} ${quote(l.path)}`);
  for (const c of commands) {
    lines.push(`# ${c.why}`);
    const input = c.input === undefined ? '' : c.secret ? '  <<< <redacted>' : `  <<< ${JSON.stringify(c.input)}`;
    lines.push(`${c.argv.map(quote).join(' ')}${input}`);
  }
  return `${lines.join('\n')}\n`;
}
