import type { VmConfig } from '../config/model.js';

/*
 * Machines of a lab share passwords (root's on every machine, a user's on the twenty machines of
 * one entry). Hashing one costs on purpose (yescrypt: about a tenth of a second each, most of a lab
 * member's configure step), so a lab hashes each account's password once: the first machine that
 * has it hashes it in its guest, by that guest's own PAM settings, and the others get that hash, as
 * clones of one template share /etc/shadow. Only in memory: a hash is never written anywhere but
 * into the guests.
 */

/** The accounts a config gives a plain password to (root first), with that password. */
export function plainPasswords(config: VmConfig): Array<[account: string, plain: string]> {
  const out: Array<[string, string]> = [];
  if (config.config.root_passwd !== undefined && config.config.root_password_hash === undefined) out.push(['root', config.config.root_passwd]);
  for (const u of Object.values(config.users.users)) {
    if (u.passwd !== undefined && u.password_hash === undefined) out.push([u.name, u.passwd]);
  }
  return out;
}

/** What two machines' accounts must have in common to share a hash: the account and its plain password. */
export function passwordKey(account: string, plain: string): string {
  return JSON.stringify([account, plain]);
}

/** The crypt(3) hashes /etc/shadow holds for `accounts`; a locked or empty field is no hash. */
export function hashesFromShadow(shadow: string, accounts: readonly string[]): Record<string, string> {
  const wanted = new Set(accounts);
  const out: Record<string, string> = {};
  for (const line of shadow.split('\n')) {
    const [name, hash] = line.split(':');
    if (name !== undefined && hash !== undefined && wanted.has(name) && /^\$[0-9a-z]+\$[^\s:]+$/.test(hash)) out[name] = hash;
  }
  return out;
}

/** The config with each account that has a hash in `hashes` given that hash instead of its plain password. */
export function withPasswordHashes(config: VmConfig, hashes: Readonly<Record<string, string>>): VmConfig {
  const rootHash = hashes.root;
  const users = Object.fromEntries(Object.entries(config.users.users).map(([key, u]) => {
    const hash = u.passwd !== undefined && u.password_hash === undefined ? hashes[u.name] : undefined;
    if (hash === undefined) return [key, u];
    const { passwd: _plain, ...rest } = u;
    return [key, { ...rest, password_hash: hash }];
  }));
  const { root_passwd: rootPlain, ...configSection } = config.config;
  const root = rootPlain !== undefined && config.config.root_password_hash === undefined && rootHash !== undefined
    ? { ...configSection, root_password_hash: rootHash }
    : config.config;
  return { ...config, config: root, users: { ...config.users, users } };
}
