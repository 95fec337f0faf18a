import type { RunCommand, RunContext } from '../types.js';
import { DEFAULT_CTID, ostemplateName } from './render.js';

/** vzctl's own defaults (vz.conf TEMPLATE=/vz/template, and the CT configs' directory), which CTID.conf's comment names too. */
const TEMPLATE_CACHE = '/vz/template/cache';
const CONF_DIR = '/etc/vz/conf';

/**
 * Each member where vzctl reads it: the template into the cache, CTID.conf into the configs;
 * `vzctl create` then keeps that CTID.conf (it reads an existing one before creating) and makes the
 * private area from the template.
 */
export function openvzRunCommands(ctx: RunContext): RunCommand[] {
  const ctid = String(ctx.options.ctid ?? DEFAULT_CTID);
  const template = ostemplateName(ctx.spec);
  return [
    { what: `the OS template into vzctl's template cache (TEMPLATE in /etc/vz/vz.conf)`, argv: ['tar', '-xf', ctx.archive, '-C', TEMPLATE_CACHE, `${template}.tar.gz`] },
    { what: `the container's config, ${ctid}.conf`, argv: ['tar', '-xf', ctx.archive, '-C', CONF_DIR, `${ctid}.conf`] },
    { what: `make container ${ctid} from the template`, argv: ['vzctl', 'create', ctid, '--ostemplate', template] },
    { what: 'start it', argv: ['vzctl', 'start', ctid] },
  ];
}
