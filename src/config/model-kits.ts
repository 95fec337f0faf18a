import { z } from 'zod';
import { pattern, textField } from './fields.js';

/*
 * Per-app parameters of the Windows installer kits (the seed's section 6.3 asks for "more installer
 * parameters"): where an app goes and what else its installer is told. Keyed by the app's generic
 * name, as [devel], [services] and [gui] are; only apps the config installs may have an entry.
 */

/**
 * Extra installer arguments go into setup.bat unquoted, as several arguments: the catalog's own
 * characters for kit arguments, plus the backslash of Windows paths. Nothing cmd.exe would read.
 */
export const KIT_USER_ARGS = /^[A-Za-z0-9 =/\\._:,-]*$/;

const kitParams = z.strictObject({
  install_dir: textField('where the app is installed, a Windows path, e.g. C:\\Tools\\7zip').optional(),
  args: pattern(KIT_USER_ARGS, '/norestart ADDLOCAL=ALL', 'extra installer arguments (letters, digits, spaces and = / \\ . _ : , -)').optional(),
});

export const kitsSection = {
  kits: z.record(z.string(), kitParams).default({}),
};

export type KitParams = z.output<typeof kitParams>;
