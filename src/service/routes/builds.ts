import type { FastifyInstance } from 'fastify';
import { VmgenError } from '../../errors.js';
import { BUILDABLE_TARGET_IDS, findBuildable } from '../../targets/commanders.js';
import type { ArchiveFormat } from '../../targets/types.js';
import type { BuildAccepted, BuildDetail } from '../api/schemas.js';
import type { RouteDeps } from '../app-deps.js';
import { BUILD_STATES, type BuildState } from '../types.js';
import { filesBodyLimit, readRequestFiles } from '../request-files.js';
import { bodyField, buildView, stringField, userOf, visibleBuild } from './common.js';

/** The job table's routes: submit, list, show, log, cancel or delete. Events and artifacts have their own files. */
export function buildRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { db, jobs, checker } = deps;
  const lookup = (id: string) => db.getBuild(id);

  // A request may carry the files its config names: a larger body than the API's other routes take.
  app.post('/api/builds', { bodyLimit: filesBodyLimit(deps.limits.bodyLimit) }, async (req, reply) => {
    const user = userOf(req);
    const config = stringField(req.body, 'config', true, deps.limits.bodyLimit)!;
    const targetId = stringField(req.body, 'target', true, 64)!;
    const format = stringField(req.body, 'format', false, 16);
    const files = readRequestFiles(bodyField(req.body, 'files'));
    const target = findBuildable(targetId);
    if (!target) {
      throw new VmgenError('VMG_USAGE', `unknown target "${targetId}"`, { hint: `targets: ${BUILDABLE_TARGET_IDS.join(', ')}` });
    }
    const formats: readonly string[] = target.commander.formats;
    const chosen = format ?? formats[0]!;
    if (!formats.includes(chosen)) {
      throw new VmgenError('VMG_USAGE', `${target.label} archives are ${formats.join(' or ')}, not "${chosen}"`);
    }
    // `vmgen validate --target`'s check plus the server's mirror policy, off this thread and under a time budget.
    const checked = await checker.check({ kind: 'submit', text: config, target: target.id, format: chosen as ArchiveFormat, ...(files ? { files } : {}) }, user.id);
    if (!checked.valid) {
      const errors = checked.diagnostics.filter((d) => d.severity === 'error').length;
      return reply.code(422).send({
        error: { code: 'VMG_CONFIG_INVALID', message: `the config does not validate (${errors} error${errors === 1 ? '' : 's'})` },
        diagnostics: checked.diagnostics,
      });
    }
    const row = await jobs.submit(user, { config, target: target.id, format: chosen, name: checked.name, steps: checked.steps, run: checked.run, ...(files ? { files } : {}) });
    const warnings = checked.diagnostics;
    const accepted: BuildAccepted = { id: row.id, state: row.state, ...(warnings.length ? { diagnostics: warnings } : {}) };
    return reply.code(202).header('location', `/api/builds/${row.id}`).send(accepted);
  });

  app.get('/api/builds', async (req) => {
    const user = userOf(req);
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const all = user.admin && (q.all === '1' || q.all === 'true');
    let state: BuildState | undefined;
    if (q.state !== undefined) {
      if (!(BUILD_STATES as readonly string[]).includes(q.state)) {
        throw new VmgenError('VMG_USAGE', `unknown state "${q.state}"`, { hint: `states: ${BUILD_STATES.join(', ')}` });
      }
      state = q.state as BuildState;
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new VmgenError('VMG_USAGE', 'limit must be a whole number from 1 to 1000');
    const rows = db.listBuilds({ ...(all ? {} : { ownerId: user.id }), ...(state ? { state } : {}), limit });
    return rows.map((r) => buildView(r, user));
  });

  app.get<{ Params: { id: string } }>('/api/builds/:id', async (req): Promise<BuildDetail> => {
    const row = visibleBuild(lookup, req, req.params.id);
    return { ...buildView(row, userOf(req)), config: row.config };
  });

  app.get<{ Params: { id: string } }>('/api/builds/:id/log', async (req, reply) => {
    const row = visibleBuild(lookup, req, req.params.id);
    const lines = db.logLines(row.id).map((l) => l.line);
    return reply.type('text/plain; charset=utf-8').send(lines.length ? `${lines.join('\n')}\n` : '');
  });

  /** Cancels a build that has not ended; deletes one that has, with its artifact. */
  app.delete<{ Params: { id: string } }>('/api/builds/:id', async (req, reply) => {
    const row = visibleBuild(lookup, req, req.params.id);
    if (row.state === 'queued' || row.state === 'running') {
      const after = await jobs.cancel(row);
      return reply.code(after.state === 'canceled' ? 200 : 202).send(buildView(after, userOf(req)));
    }
    await jobs.remove(row);
    return reply.code(204).send();
  });
}
