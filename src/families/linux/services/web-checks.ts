import { probe, type ProbeResult } from '../../../communicators/probe.js';
import type { Communicator } from '../../../communicators/types.js';
import type { ResolvedSite } from '../../../config/resolve-services.js';
import { check, fail, pass, shown, sleep, why, type Check, type VerifyOptions } from '../../check-kit.js';
import { settleTime } from './poll.js';
import { siteNames, type WebLayout } from './web.js';

/*
 * `vmgen verify`'s checks of the [web] sites, from inside the booted guest as a client there
 * would ask: curl, by each of the site's names, against the guest's own address. They need the
 * server running, so they are for booted guests only.
 */

/** curl's exit status when nothing listens yet. */
const CURL_COULD_NOT_CONNECT = 7;

export function webChecks(sites: readonly ResolvedSite[], layout: WebLayout, opts: VerifyOptions): Check[] {
  if (!opts.booted) return [];
  return sites.flatMap((site) => [siteCheck(site, 'http', layout, opts), ...(site.tls ? [siteCheck(site, 'https', layout, opts)] : [])]);
}

/**
 * Every name of the site must answer with the document root's index.html as the guest has it;
 * a root without one (content from a script, another index) only needs a non-empty answer.
 * HTTPS is checked against the site's own certificate, so its names are checked too.
 */
function siteCheck(site: ResolvedSite, scheme: 'http' | 'https', layout: WebLayout, opts: VerifyOptions): Check {
  const names = siteNames(site);
  const port = scheme === 'http' ? 80 : 443;
  return check(`site ${names[0]!} over ${scheme}`, async (comm) => {
    const index = `${site.root.replace(/\/+$/, '')}/index.html`;
    const want = await probe(comm, ['cat', '--', index]);
    for (const name of names) {
      const argv = [
        'curl', '-fsS', '--max-time', '10', '--resolve', `${name}:${port}:127.0.0.1`,
        ...(scheme === 'https' ? ['--cacert', layout.certFile(names[0]!)] : []),
        `${scheme}://${name}/`,
      ];
      const r = await untilListening(comm, argv, opts);
      if (r.exitCode !== 0) return fail(`${name}: ${why(r, 'curl')}`);
      if (want.exitCode === 0 && r.stdout !== want.stdout) return fail(`${name} answers ${shown(r.stdout)}, not the content of ${index}`);
      if (r.stdout === '') return fail(`${name} answers with an empty page`);
    }
    const what = want.exitCode === 0 ? `the content of ${index}` : `a page (${index} is not there to compare)`;
    return pass(`${names.join(', ')} answer with ${what}`);
  });
}

async function untilListening(comm: Communicator, argv: readonly string[], opts: VerifyOptions): Promise<ProbeResult> {
  const { timeoutMs, intervalMs } = settleTime(opts);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await probe(comm, argv);
    if (r.exitCode !== CURL_COULD_NOT_CONNECT || Date.now() >= end) return r;
    await sleep(intervalMs);
  }
}
