import { resolveApp } from '../../catalog/load.js';
import type { Catalogs, OsEntry } from '../../catalog/schema.js';
import { APP_SECTIONS, type VmConfig } from '../../config/model.js';
import { batchProblem } from './batch.js';
import type { WindowsRelease } from './releases.js';
import { WINDOWS_SERVICES, psProblem } from './services.js';
import * as v from '../../config/validators.js';

/*
 * What only Windows needs of [files], [scripts], the service sections and [kits], as problems at
 * their config paths; validate/semantic.ts reports them at their lines. Each rule mirrors a refusal
 * of the generators here, so a config that validates also renders.
 */

export interface WindowsProblem {
  path: Array<string | number>;
  severity: 'error' | 'warning';
  code: string;
  message: string;
  hint?: string;
  at?: 'key';
}

const FORBIDDEN_IN_PATH = /[<>:"|?*\u0000-\u001f]/;

/** Why `p` is not an absolute Windows path vmgen can write into config.bat, or undefined. */
export function windowsPathProblem(p: string): string | undefined {
  if (!/^[A-Za-z]:\\/.test(p)) return `'${p}' is not an absolute Windows path`;
  if (FORBIDDEN_IN_PATH.test(p.slice(2))) return `'${p}' contains a character Windows forbids in paths`;
  const batch = batchProblem(p);
  return batch === undefined ? undefined : `'${p}' cannot be written into config.bat: ${batch}`;
}

/** IIS refuses these in a site name, which is the [web] subsection's name. */
const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;
/** The scripts a Windows guest can run: batch files, or PowerShell. */
const SCRIPT_SOURCE = /\.(bat|cmd|ps1)$/i;

export function windowsProvisionProblems(config: VmConfig, os: OsEntry, release: WindowsRelease): WindowsProblem[] {
  const out: WindowsProblem[] = [];
  const error = (path: Array<string | number>, code: string, message: string, hint?: string, at?: 'key'): void => {
    out.push({ path, severity: 'error', code, message, ...(hint === undefined ? {} : { hint }), ...(at === undefined ? {} : { at }) });
  };
  for (const [id, f] of Object.entries(config.files)) {
    // The path's shape is validate/services.ts's (CFG_FILE_PATH); what cmd.exe cannot take is this rule's.
    const path = v.checkWindowsPath(f.path).ok ? batchProblem(f.path) : undefined;
    if (path !== undefined) error(['files', id, 'path'], 'CFG_WINDOWS_PATH', `'${f.path}' cannot be written into config.bat: ${path}`, 'leave out a trailing backslash');
    if (f.owner !== 'root' && !release.icacls) {
      error(['files', id, 'owner'], 'CFG_WINDOWS_OWNER', `${os.label} has no icacls to give a file its owner`, 'leave owner out: the files stay the Administrators\'');
    }
    const owner = batchProblem(f.owner);
    if (owner !== undefined) error(['files', id, 'owner'], 'CFG_WINDOWS_SCRIPT', `the owner cannot be written into config.bat: ${owner}`);
    for (const key of ['group', 'mode'] as const) {
      if (f[key] !== undefined) {
        out.push({ path: ['files', id, key], severity: 'warning', code: 'CFG_IGNORED_WINDOWS', message: `${key} is ignored for Windows guests: the owner gets full control, the rest inherit their folder's permissions` });
      }
    }
  }
  for (const [id, s] of Object.entries(config.scripts)) {
    if (s.when === 'build') {
      error(['scripts', id, 'when'], 'CFG_SCRIPT_BUILD_WINDOWS', 'build scripts cannot run for a Windows guest: nothing here runs Windows programs', 'set when = first-boot: it runs at the first logon after config.bat');
    }
    if (s.source !== undefined && /\.ps1$/i.test(s.source) && !release.powershell) {
      error(['scripts', id, 'source'], 'CFG_SCRIPT_WINDOWS', `${os.label} has no PowerShell to run '${s.source}'`, 'write the script as a batch file (.bat)');
    }
    if (s.source !== undefined && !SCRIPT_SOURCE.test(s.source)) {
      error(['scripts', id, 'source'], 'CFG_SCRIPT_WINDOWS', `a Windows script is a batch file or a PowerShell script: '${s.source}' ends in neither .bat, .cmd nor .ps1`, 'rename it to .bat, .cmd or .ps1');
    }
  }
  for (const key of WINDOWS_SERVICES) {
    if (config[key] !== undefined && !release.server) {
      error([key], 'CFG_SERVICE_WINDOWS', `[${key}] configures a Windows Server role, and ${os.label} is not Windows Server`, 'use a Windows Server OS (vmgen catalog os)');
    }
  }
  for (const [id, site] of Object.entries(config.web ?? {})) {
    if (!SITE_NAME.test(id)) error(['web', id], 'CFG_WEB_SITE_NAME', `'${id}' names the IIS site, which takes letters, digits, spaces and . _ -`, undefined, 'key');
    // The root's shape and its [files] are validate/services.ts's (CFG_WEB_ROOT); PowerShell takes any such path.
    const root = v.checkWindowsPath(site.root).ok ? psProblem(site.root) : undefined;
    if (root !== undefined) error(['web', id, 'root'], 'CFG_WEB_ROOT', `the document root cannot be written into a PowerShell script: ${root}`);
  }
  return out;
}

/** [kits]: parameters for apps the config installs from Windows kits, in the form each kit takes. */
export function kitsProblems(config: VmConfig, os: OsEntry, catalogs: Catalogs, windows: boolean): WindowsProblem[] {
  const out: WindowsProblem[] = [];
  const installed = new Set(APP_SECTIONS.flatMap((s) => Object.entries(config[s]).filter(([, on]) => on).map(([app]) => app)));
  for (const [app, params] of Object.entries(config.kits)) {
    if (!windows) {
      out.push({ path: ['kits', app], severity: 'error', code: 'CFG_KITS_LINUX', message: `[kits] sets Windows installer kits; ${os.label} installs ${app} from packages`, hint: 'remove [kits]', at: 'key' });
      continue;
    }
    if (!installed.has(app)) {
      out.push({ path: ['kits', app], severity: 'error', code: 'CFG_KIT_NOT_INSTALLED', message: `[kits] [[${app}]]: the config does not install ${app}`, hint: `add ${app} = 1 to [devel], [services] or [gui], or remove [[${app}]]`, at: 'key' });
      continue;
    }
    const r = resolveApp(catalogs, app, os);
    if (!r.ok || r.kit === undefined) continue; // checkApplications reports an app without a kit
    if (params.install_dir !== undefined) {
      const problem = windowsPathProblem(params.install_dir);
      if (problem !== undefined) {
        out.push({ path: ['kits', app, 'install_dir'], severity: 'error', code: 'CFG_WINDOWS_PATH', message: problem, hint: 'write it like C:\\Tools\\7zip' });
      } else if (r.kit.type === 'simple' && r.kit.installDir === undefined) {
        out.push({ path: ['kits', app, 'install_dir'], severity: 'error', code: 'CFG_KIT_INSTALL_DIR', message: `the ${app} kit (${r.kit.setupFile}) does not say how it takes an install directory`, hint: 'remove install_dir, or give the catalog entry an installDir such as /D={dir}' });
      }
    }
  }
  return out;
}
