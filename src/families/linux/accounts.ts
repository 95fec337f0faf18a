import type { ResolvedSpec, ResolvedUser } from '../../config/resolve.js';
import { checkGuestAbsolutePath, checkPosixName, quote } from '../../config/validators.js';
import { renderAuthorizedKeys, renderChpasswdInput } from '../debian/render.js';
import type { GuestCommand, GuestFile } from '../types.js';

/*
 * Groups, users, passwords and SSH keys, as shadow-utils, chpasswd and OpenSSH take them on every
 * Linux family vmgen knows: the same plan pieces for Debian and RedHat guests.
 */

/**
 * Where authorized_keys files wait until their owners exist. They cannot be written into the home
 * directly: plan files are written before commands run, and `useradd -m` neither copies /etc/skel
 * into nor chowns a home that already exists, so the user would get a root-owned, empty home.
 */
export const STAGED_KEYS_DIR = '/var/lib/vmgen-authorized-keys';

/** Groups, then users, their passwords, their SSH keys, and the machine's own SSH host keys, in that order. */
export function accountCommands(spec: ResolvedSpec): GuestCommand[] {
  return [
    ...spec.groups.map((g): GuestCommand => ({ argv: ['groupadd', posixName(g, 'group')], why: `create group ${g}` })),
    ...spec.users.map((u) => useraddCommand(u, spec.groups)),
    ...passwordCommands(spec),
    ...keyCommands(spec),
    ...hostKeyCommands(spec),
  ];
}

/** A user whose name is also a listed group joins that group as its primary one: `-U` would fail on it. */
function useraddCommand(user: ResolvedUser, groups: readonly string[]): GuestCommand {
  const name = posixName(user.name, 'user');
  const primary = groups.includes(name) ? ['-g', name] : ['-U'];
  const extra = user.groups.length > 0 ? ['-G', user.groups.map((g) => posixName(g, 'group')).join(',')] : [];
  const argv = ['useradd', '-m', ...primary, '-s', guestPath(user.shell, 'shell'), '-d', guestPath(user.home, 'home'), ...extra, name];
  return { argv, why: `create user ${name}` };
}

/**
 * Plain passwords go through chpasswd without -c, so PAM's pam_unix hashes them as the release
 * is set up to: yescrypt on Debian 12+ and Ubuntu 22.04+, SHA-512 or yescrypt on Fedora and EL.
 * `-c YESCRYPT` would say the same where it works, but Ubuntu 22.04's chpasswd (shadow 4.8)
 * predates that option. Root is only touched when the config sets its password; it stays locked
 * otherwise.
 */
function passwordCommands(spec: ResolvedSpec): GuestCommand[] {
  const accounts = [
    ...(spec.rootPassword === undefined ? [] : [{ name: 'root', password: spec.rootPassword }]),
    ...spec.users.flatMap((u) => (u.password === undefined ? [] : [{ name: u.name, password: u.password }])),
  ];
  const plain = accounts.flatMap((a) => ('plain' in a.password ? [{ name: a.name, secret: a.password.plain, hashed: false }] : []));
  const hashed = accounts.flatMap((a) => ('hash' in a.password ? [{ name: a.name, secret: a.password.hash, hashed: true }] : []));
  const commands: GuestCommand[] = [];
  if (plain.length > 0) {
    commands.push({ argv: ['chpasswd'], input: renderChpasswdInput(plain), secret: true, why: `set the password of ${names(plain)}` });
  }
  if (hashed.length > 0) {
    commands.push({ argv: ['chpasswd', '-e'], input: renderChpasswdInput(hashed), secret: true, why: `set the password hash of ${names(hashed)}` });
  }
  return commands;
}

export function stagedKeyFiles(spec: ResolvedSpec): GuestFile[] {
  return usersWithKeys(spec).map((u) => ({ path: stagedKeyPath(u), content: renderAuthorizedKeys(u.sshKeys), mode: 0o600 }));
}

/** `install` creates and fills ~/.ssh with the owner and mode sshd's StrictModes insists on, in one step each. */
function keyCommands(spec: ResolvedSpec): GuestCommand[] {
  const users = usersWithKeys(spec);
  if (users.length === 0) return [];
  return [
    ...users.flatMap((u): GuestCommand[] => {
      const ssh = `${guestPath(u.home, 'home').replace(/\/+$/, '')}/.ssh`;
      const owner = ['-o', u.name, '-g', u.name];
      return [
        { argv: ['install', '-d', '-m', '700', ...owner, ssh], why: `create ${ssh} for ${u.name}` },
        { argv: ['install', '-m', '600', ...owner, stagedKeyPath(u), `${ssh}/authorized_keys`], why: `install the SSH keys of ${u.name}` },
      ];
    }),
    { argv: ['rm', '-r', '--', STAGED_KEYS_DIR], why: 'remove the staged copies of the SSH keys' },
  ];
}

/**
 * openssh-server makes its host keys when it is installed, which happens once in the cached layer:
 * left alone, every machine built from that layer would share them. Each build makes its own, of
 * the two types every SSH client of the last decade takes (OpenSSH 6.5, PuTTY 0.68). No RSA key:
 * making one (3072 bits) cost half a second per build, more than the rest of the accounts step,
 * and sshd skips a missing default key without a word (it logs that at debug level only).
 * Fedora and EL guests still make theirs at first boot, as their sshd-keygen units do by design.
 */
function hostKeyCommands(spec: ResolvedSpec): GuestCommand[] {
  if (!spec.appPackages.includes('openssh-server')) return [];
  return [
    { argv: ['find', '/etc/ssh', '-maxdepth', '1', '-name', 'ssh_host_*', '-delete'], why: 'drop the SSH host keys shared by every build of the cached layer' },
    // One by one rather than `ssh-keygen -A`, whose key comments would name the build host.
    ...(['ecdsa', 'ed25519'] as const).map((type): GuestCommand => ({
      argv: ['ssh-keygen', '-q', '-t', type, '-N', '', '-C', `root@${spec.hostname}`, '-f', `/etc/ssh/ssh_host_${type}_key`],
      why: `make this machine's own SSH ${type} host key`,
    })),
  ];
}

function usersWithKeys(spec: ResolvedSpec): ResolvedUser[] {
  return spec.users.filter((u) => u.sshKeys.length > 0);
}

function stagedKeyPath(user: ResolvedUser): string {
  return `${STAGED_KEYS_DIR}/${posixName(user.name, 'user')}`;
}

function posixName(name: string, what: 'user' | 'group'): string {
  const r = checkPosixName(name, what);
  if (!r.ok) throw new Error(r.message);
  return name;
}

/** ':' is refused too: home and shell are fields of /etc/passwd. */
function guestPath(path: string, what: string): string {
  const r = checkGuestAbsolutePath(path);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  if (path.includes(':')) throw new Error(`${what} ${quote(path)} contains ':', the /etc/passwd field separator`);
  return path;
}

function names(entries: ReadonlyArray<{ name: string }>): string {
  return entries.map((e) => e.name).join(', ');
}
