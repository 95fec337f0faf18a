import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';

/**
 * The specs the container generators are golden-tested on: the README's sample machine, the same
 * machine with a second, DHCP NIC on a bridge, and a machine without any NIC.
 */
const catalogs = loadCatalogs({ env: {} });

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../examples/debian-web.conf', import.meta.url)), 'utf8');

function replaceOnce(text: string, find: string, insert: string): string {
  if (!text.includes(find)) throw new Error(`examples/debian-web.conf no longer contains ${JSON.stringify(find)}`);
  return text.replace(find, insert);
}

const TWO_NICS = replaceOnce(
  replaceOnce(EXAMPLE, '            hw_addr = 00:50:56:00:10:01\n', '            hw_addr = 00:50:56:00:10:01\n        [[[eth1]]]\n            type = bridged\n            hw_addr = 00:50:56:00:10:02\n'),
  '            network = 255.255.255.0\n',
  '            network = 255.255.255.0\n        [[[eth1]]]\n            type = dhcp\n',
);

const NO_NIC = `# A machine without network.
[hardware]
    vm_id = bare
    os = debian12-64
    num_cpu = 1
    ram = 512MB

[config]
    hostname = bare
`;

export const CASES = { web: EXAMPLE, 'two-nics': TWO_NICS, 'no-nic': NO_NIC } as const;
export type CaseName = keyof typeof CASES;
export const CASE_NAMES = Object.keys(CASES) as CaseName[];

export function specFor(name: CaseName, target: string): ResolvedSpec {
  const loaded = loadConfig(CASES[name], { catalogs });
  if (loaded.config === undefined) throw new Error(`case ${name} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target, defaultMirror: 'http://mirror.example/debian' });
}
