import { posix } from 'node:path';

/*
 * What `systemctl enable UNIT` does to an offline root, as systemd's own installer (src/shared/
 * install.c, unit_file_enable → install_info_symlink_*) does it: for each name in the unit file's
 * [Install] section, one symbolic link below /etc/systemd/system to the file the unit was found at.
 * Pure: the caller reads the unit files and the existing links; this says which links to make, or
 * why the unit is left to systemctl itself (anything this does not reproduce exactly).
 */

/** A plain unit name: what vmgen asks systemctl to enable, and what links may be named after. */
export const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9@._:-]*$/;

/** Where links go, as for `systemctl enable` without --runtime or --global. */
export const CONFIG_DIR = '/etc/systemd/system';

/** The [Install] settings that make links; Also= names units enabled with this one. */
export interface InstallSection {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  alias: string[];
  also: string[];
  /** Settings this does not reproduce (DefaultInstance=, specifiers), by name: left to systemctl. */
  unsupported: string[];
}

const LIST_KEYS = { WantedBy: 'wantedBy', RequiredBy: 'requiredBy', UpheldBy: 'upheldBy', Alias: 'alias', Also: 'also' } as const;

/**
 * The [Install] section of a unit file, as systemd's parser reads it: `#` and `;` start comment
 * lines, a trailing backslash continues a line, each list setting adds its space-separated names and
 * an empty assignment clears what came before.
 */
export function parseInstallSection(text: string): InstallSection {
  const out: InstallSection = { wantedBy: [], requiredBy: [], upheldBy: [], alias: [], also: [], unsupported: [] };
  let section = '';
  for (const line of logicalLines(text)) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line.replace(/\].*$/, '').slice(1);
      continue;
    }
    if (section !== 'Install') continue;
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const field = LIST_KEYS[key as keyof typeof LIST_KEYS];
    if (field === undefined) {
      out.unsupported.push(key);
      continue;
    }
    if (value.includes('%')) out.unsupported.push(`${key} with a specifier`);
    if (value === '') out[field] = [];
    else out[field].push(...value.split(/\s+/));
  }
  return out;
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line.startsWith('#') || line.startsWith(';'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push((pending + line).trim());
    pending = '';
  }
  if (pending !== '') lines.push(pending.trim());
  return lines;
}

/** The unit name systemctl takes `name` for: `ssh` is ssh.service. */
export function unitName(name: string): string {
  return /\.(service|socket|timer|target|path|mount|automount|swap|slice|scope|device)$/.test(name) ? name : `${name}.service`;
}

/** The links enabling `unit`, found at `unitPath`, needs; `Also=` units are the caller's to add. */
export function enableLinks(unit: string, unitPath: string, install: InstallSection): Array<{ path: string; target: string }> {
  const dirs = [
    ...install.wantedBy.map((t) => `${t}.wants`),
    ...install.requiredBy.map((t) => `${t}.requires`),
    ...install.upheldBy.map((t) => `${t}.upholds`),
  ];
  return [
    ...dirs.map((d) => ({ path: posix.join(CONFIG_DIR, d, unit), target: unitPath })),
    ...install.alias.map((a) => ({ path: posix.join(CONFIG_DIR, a), target: unitPath })),
  ];
}

/** Why systemctl, rather than links, must enable `unit`; undefined when links do exactly what it would. */
export function offlineBlocker(unit: string, install: InstallSection): string | undefined {
  if (unit.includes('@')) return 'a template or instance unit';
  if (install.unsupported.length > 0) return `[Install] ${install.unsupported.join(', ')}`;
  const names = [...install.wantedBy, ...install.requiredBy, ...install.upheldBy, ...install.alias, ...install.also];
  if (names.some((n) => !UNIT_NAME.test(n))) return 'an [Install] name that is not a plain unit name';
  return undefined;
}
