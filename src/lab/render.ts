import type { Lab } from './types.js';

/*
 * The lab as files (`vmgen lab render`): each machine's config as it will be built and lab.json,
 * the lab without the typed configs. Pure: the command writes what this returns.
 */

/** The lab as JSON: networks, and machines with their entry, copy number, config path and NICs. */
export function labJson(lab: Lab): string {
  const summary = {
    name: lab.name,
    ...(lab.description !== undefined ? { description: lab.description } : {}),
    networks: lab.networks,
    machines: lab.machines.map((m) => ({
      name: m.name,
      group: m.group,
      ...(m.index !== undefined ? { index: m.index } : {}),
      configPath: m.configPath,
      nics: m.nics,
    })),
  };
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/** machines/NAME.conf for each machine, and lab.json. */
export function labFiles(lab: Lab): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of lab.machines) files.set(`machines/${m.name}.conf`, m.text);
  files.set('lab.json', labJson(lab));
  return files;
}
