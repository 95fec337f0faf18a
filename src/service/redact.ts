import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

/**
 * Build logs and errors go to the build's owner, who has no business knowing the host's layout:
 * where its data, cache and stage directories are. Each known directory becomes a placeholder.
 */
export interface HiddenPath {
  path: string;
  /** What the user sees instead, e.g. <cache>. */
  as: string;
}

/** Temp directories builds make under the system's temp dir (vmgen-files-XXXXXX, vmgen-dnf-XXXXXX). */
const tempPattern = (dir: string): RegExp => new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/vmgen-[^\\s/'":]*`, 'g');

/** A function that hides every listed path (longest first, so a stage dir inside the data dir is <stage>). */
export function pathHider(paths: readonly HiddenPath[], tmp = tmpdir()): (text: string) => string {
  const table = paths
    .map((p) => ({ path: resolve(p.path), as: p.as }))
    // The root or a one-letter path would hide every slash; nothing vmgen configures is that short.
    .filter((p) => p.path.length > 1)
    .sort((a, b) => b.path.length - a.path.length);
  const temp = tempPattern(resolve(tmp));
  return (text) => {
    let out = text;
    for (const { path, as } of table) if (out.includes(path)) out = out.split(path).join(as);
    return out.replace(temp, '<tmp>');
  };
}
