import { z } from 'zod';
import { ARCHIVE_FORMATS } from '../../archive/formats.js';
import { AppEntrySchema, FamilySchema, OsEntrySchema } from '../../catalog/schema.js';
import { TARGET_IDS } from '../../targets/registry.js';
import { BUILDABLE_TARGET_IDS } from '../../targets/commanders.js';
import { LAB_STATES } from '../labs/state.js';
import { BUILD_STATES } from '../types.js';
import type { BuildStateTable, DownloadLink, LabTopology, LabView, OfferedApp, RunStep } from '../web/shared-types.js';
import type { RunStep as TargetRunStep } from '../../targets/run-commands.js';

/*
 * The bodies the HTTP API takes and sends, as zod schemas: the one source of the TypeScript types
 * the routes build their answers with (z.infer) and of the OpenAPI description (openapi.ts). The
 * web page reads some of them through web/shared-types.d.ts, which it can compile on its own; the
 * type checks at the end of this file keep that file and these schemas the same.
 */

const isoTime = z.string().describe('ISO 8601 time, UTC');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/).describe('SHA-256, hex');

export const BuildIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/).describe('A build or lab id: 16 characters of base64url');
export const BuildStateSchema = z.enum(BUILD_STATES as [keyof BuildStateTable, ...Array<keyof BuildStateTable>]);
export const LabStateSchema = z.enum(LAB_STATES as [LabView['state'], ...Array<LabView['state']>]);

export const DiagnosticSchema = z.object({
  code: z.string(),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  line: z.number().int().min(0).describe('1-based; 0 when the problem has no place in the file'),
  column: z.number().int().min(0),
  hint: z.string().optional(),
  path: z.array(z.string()).optional().describe('the key path it is about; it may name a key the file lacks (a missing value)'),
}).describe('A problem in a config, as `vmgen validate` prints it at FILE:LINE:COL');

export const LabDiagnosticSchema = DiagnosticSchema.extend({ file: z.string().describe('the file it is about; the lab file is lab.conf') });

/** A diagnostic of the page's parse: every one the file places has its key path (read back from its place where a check gave none). */
export const FieldDiagnosticSchema = DiagnosticSchema;

export const ArtifactSummarySchema = z.object({ name: z.string(), bytes: z.number().int().min(0), sha256 });

export const RunStepSchema = z.object({
  what: z.string().describe('what the command does, in a few words'),
  command: z.string().describe('the command, quoted for a POSIX shell'),
}).describe('One command that starts a built archive');

export const BuildViewSchema = z.object({
  id: BuildIdSchema,
  state: BuildStateSchema,
  final: z.boolean().describe('whether the state is one a build ends in'),
  target: z.string(),
  format: z.string(),
  name: z.string(),
  step: z.string().nullable(),
  steps: z.array(z.string()).describe('the build plan\'s step names in order; empty for older builds'),
  progress: z.number().min(0).max(1),
  created: isoTime,
  started: isoTime.nullable(),
  finished: isoTime.nullable(),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  worker: z.string().optional(),
  artifact: ArtifactSummarySchema.optional(),
  run: z.array(RunStepSchema).optional()
    .describe('succeeded builds: the commands that start the archive for its target and format, in order, run where the archive was saved'),
  owner: z.string().optional().describe('admins only'),
}).describe('A build; its config stays out of lists');
export type BuildView = z.infer<typeof BuildViewSchema>;

export const BuildDetailSchema = BuildViewSchema.extend({ config: z.string() }).describe('A build with its config text');
export type BuildDetail = z.infer<typeof BuildDetailSchema>;

export const BuildAcceptedSchema = z.object({
  id: BuildIdSchema,
  state: BuildStateSchema,
  diagnostics: z.array(DiagnosticSchema).optional().describe('warnings'),
});
export type BuildAccepted = z.infer<typeof BuildAcceptedSchema>;

export const DownloadLinkSchema = z.object({
  url: z.string().describe('path and query on this server'),
  expires: isoTime,
});

export const LabTopologySchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  networks: z.array(z.object({ name: z.string(), subnet: z.string(), gateway: z.string().optional() })),
  machines: z.array(z.object({ name: z.string(), group: z.string(), nics: z.array(z.object({ nic: z.string(), network: z.string(), address: z.string() })) })),
});

export const LabViewSchema = z.object({
  id: BuildIdSchema,
  name: z.string(),
  target: z.string(),
  format: z.string(),
  state: LabStateSchema,
  final: z.boolean(),
  created: isoTime,
  topology: LabTopologySchema,
  machines: z.array(z.object({
    name: z.string(), build: BuildIdSchema, state: BuildStateSchema, step: z.string().nullable(), progress: z.number().min(0).max(1),
    worker: z.string().optional(), error: z.string().optional(),
  })),
  assembly: z.object({ build: z.string(), state: BuildStateSchema, worker: z.string().optional(), error: z.string().optional() }).optional(),
  error: z.string().optional(),
  archive: ArtifactSummarySchema.optional(),
  owner: z.string().optional(),
}).describe('A lab, its state derived from its jobs');

export const LabAcceptedSchema = LabViewSchema.extend({ diagnostics: z.array(LabDiagnosticSchema).optional().describe('warnings') });

export const CatalogSchema = z.object({ os: z.array(OsEntrySchema), apps: z.array(AppEntrySchema) });
export type CatalogBody = z.infer<typeof CatalogSchema>;

export const TargetInfoSchema = z.object({
  id: z.enum(BUILDABLE_TARGET_IDS as [string, ...string[]]),
  label: z.string(),
  kind: z.enum(['container', 'vm']),
  formats: z.array(z.enum(ARCHIVE_FORMATS)),
  defaultFormat: z.enum(ARCHIVE_FORMATS),
  os: z.array(z.string()).describe('the OS ids this target can run'),
});
export type TargetInfo = z.infer<typeof TargetInfoSchema>;

export const RequestFileLimitsSchema = z.object({ maxFileBytes: z.number().int(), maxTotalBytes: z.number().int(), maxFiles: z.number().int() });

export const MeSchema = z.object({
  name: z.string(),
  admin: z.boolean(),
  maxQueued: z.number().int(),
  allowScripts: z.boolean().describe('whether build-time scripts are accepted'),
  files: RequestFileLimitsSchema,
});
export type Me = z.infer<typeof MeSchema>;

export const JsonSchemaObject = z.record(z.string(), z.unknown()).describe('A JSON Schema');

export const ParsedConfigSchema = z.object({
  tree: z.unknown().describe('the config as a tree; null when the text does not parse'),
  diagnostics: z.array(FieldDiagnosticSchema),
  valid: z.boolean(),
});
export const EditedConfigSchema = ParsedConfigSchema.extend({ text: z.string().describe('the config text after the edits') });

export const OfferedAppSchema = z.object({
  name: z.string(), category: z.string(), description: z.string(), available: z.boolean(), reason: z.string().optional(), hint: z.string().optional(),
});
export const AppsOfferSchema = z.object({ os: z.object({ id: z.string(), label: z.string(), family: FamilySchema }), apps: z.array(OfferedAppSchema) });

export const HealthSchema = z.object({ ok: z.boolean() });
export type Health = z.infer<typeof HealthSchema>;

/** What every error leaves the API as; `diagnostics` when a config or lab does not validate. */
export function errorBodySchema(codes: readonly [string, ...string[]], diagnostics?: z.ZodType): z.ZodObject {
  const error = z.object({ code: z.enum(codes), message: z.string(), hint: z.string().optional() });
  return diagnostics ? z.object({ error, diagnostics: z.array(diagnostics).optional() }) : z.object({ error });
}

// ---- request bodies ----

export const RequestFilesSchema = z.record(z.string(), z.string())
  .describe('the files the config\'s `source` keys name: relative path → content in base64');

const targetId = z.enum(BUILDABLE_TARGET_IDS as [string, ...string[]]);
export const SubmitBuildBody = z.object({
  config: z.string().describe('the config text'),
  target: targetId,
  format: z.enum(ARCHIVE_FORMATS).optional().describe('one of the target\'s formats; its first by default'),
  files: RequestFilesSchema.optional(),
});
export const SubmitLabBody = z.object({
  lab: z.string().describe('the lab file\'s text'),
  target: targetId,
  format: z.enum(ARCHIVE_FORMATS).optional(),
  files: RequestFilesSchema.optional().describe('the machine configs, roster and sources the lab file names'),
});
export const DownloadLinkBody = z.object({ expiresIn: z.number().int().min(10).max(86400).optional().describe('seconds; 900 by default') });

export const ListQuery = z.object({
  all: z.enum(['1', 'true']).optional().describe('admins: everyone\'s'),
  state: BuildStateSchema.optional(),
  limit: z.string().regex(/^[0-9]+$/).optional().describe('1 to 1000; 100 by default'),
});
export const LabListQuery = ListQuery.pick({ all: true });
export const LinkQuery = z.object({ expires: z.string().regex(/^[0-9]{1,12}$/), sig: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });

/** A config text is one a person writes; this is far more than any machine needs. */
const MAX_TEXT = 256 * 1024;
// Names in the file are letters, digits and a few marks (the catalog's app names include '+' and '.';
// a DNS record's owner may be '@', the zone itself, or a wildcard '*').
const SEGMENT = /^[A-Za-z0-9_.+@*-]{1,64}$/;
const configTarget = z.enum(TARGET_IDS as [string, ...string[]], { error: `target is one of: ${TARGET_IDS.join(', ')}` }).optional();
const keyPath = z.array(z.string().regex(SEGMENT, 'a key path segment is letters, digits, _ . + or -')).min(1).max(12);
const iniValue = z.union([z.string().max(MAX_TEXT), z.array(z.string().max(MAX_TEXT)).max(1000)]);
const configText = z.string().max(MAX_TEXT);
const editSchema = z.union([
  z.strictObject({ path: keyPath, value: iniValue }),
  z.strictObject({ path: keyPath, unset: z.literal(true) }),
]);
// Paths, base64 and sizes of `files` are checked by readRequestFiles, whose messages name the file.
export const ParseBody = z.strictObject({ text: configText, target: configTarget, files: RequestFilesSchema.optional() });
export const EditBody = z.strictObject({ text: configText, edits: z.array(editSchema).max(500), target: configTarget, files: RequestFilesSchema.optional() });
export const SetBody = z.strictObject({ text: configText, path: keyPath, value: iniValue, target: configTarget, files: RequestFilesSchema.optional() });
export const UnsetBody = z.strictObject({ text: configText, path: keyPath, target: configTarget, files: RequestFilesSchema.optional() });
export const AppsQuery = z.strictObject({ os: z.string().max(64) });
export const PresetsQuery = z.strictObject({ target: z.enum(TARGET_IDS as [string, ...string[]], { error: `target is one of: ${TARGET_IDS.join(', ')}` }) });
export const PresetsSchema = z.object({
  presets: z.array(z.object({ id: z.string(), label: z.string(), summary: z.string(), text: z.string().describe('the preset as config text') })),
}).describe('The machines a new config can start from, for one target');
export type PresetsBody = z.infer<typeof PresetsSchema>;

// ---- the web page's copies (web/shared-types.d.ts) must be these types ----

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTypes: [
  Same<z.infer<typeof LabViewSchema>, LabView>,
  Same<z.infer<typeof LabTopologySchema>, LabTopology>,
  Same<z.infer<typeof DownloadLinkSchema>, DownloadLink>,
  Same<z.infer<typeof OfferedAppSchema>, OfferedApp>,
  Same<z.infer<typeof RunStepSchema>, RunStep>,
  Same<RunStep, TargetRunStep>,
] = [true, true, true, true, true, true];
void sameTypes;
