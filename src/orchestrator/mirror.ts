import { readsAptSources } from '../catalog/families.js';
import { findOs } from '../catalog/load.js';
import type { Catalogs } from '../catalog/schema.js';
import { VmgenError } from '../errors.js';
import { hostMirror } from '../installers/apt/mirror.js';

/** The mirror a build uses when its config names none: the host's own, for its own distribution. */
export function defaultMirror(catalogs: Catalogs, osId: string, opts: Parameters<typeof hostMirror>[1] = {}): string {
  const os = findOs(catalogs, osId);
  if (os === undefined) throw new Error(`unknown OS ${osId}`);
  const env = process.env.VMGEN_MIRROR;
  if (env) return env.replace(/\/+$/, '');
  const mirror = readsAptSources(os.installer) ? hostMirror(os.distribution, opts) : undefined;
  if (mirror !== undefined) return mirror;
  throw new VmgenError('VMG_MIRROR', `no ${os.distribution} mirror is known for ${os.id}: this host's apt sources are not ${os.distribution}'s`, {
    hint: `set 'mirror = http://…' in [config] (or VMGEN_MIRROR) to a ${os.distribution} mirror`,
  });
}
