import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VmgenError } from '../../errors.js';
import { BUILDABLE_TARGET_IDS, findBuildable } from '../../targets/commanders.js';
import type { RouteDeps } from '../app-deps.js';
import type { LabRow } from '../db.js';
import { filesBodyLimit, readRequestFiles } from '../request-files.js';
import { sendArtifact } from './artifact.js';
import { BUILD_ID, bodyField, stringField, userOf } from './common.js';

/** The lab a route names, if the caller may see it; someone else's is "not found", as for builds. */
function visibleLab(deps: RouteDeps, req: FastifyRequest, id: string): LabRow {
  const user = userOf(req);
  const row = BUILD_ID.test(id) ? deps.db.getLab(id) : undefined;
  if (!row || (row.ownerId !== user.id && !user.admin)) throw new VmgenError('VMG_NOT_FOUND', `no lab ${BUILD_ID.test(id) ? id : '(bad id)'}`);
  return row;
}

/**
 * Labs (issue 16): POST a lab file with every file it names (machine configs, roster, the machines'
 * sources) in the shape builds take a config's files; each machine becomes its own build job, and
 * the lab's state and archive come from those jobs (see labs/lab-jobs.ts).
 */
export function labRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { db, jobs, checker } = deps;

  app.post('/api/labs', { bodyLimit: filesBodyLimit(deps.limits.bodyLimit) }, async (req, reply) => {
    const user = userOf(req);
    const text = stringField(req.body, 'lab', true, deps.limits.bodyLimit)!;
    const targetId = stringField(req.body, 'target', true, 64)!;
    const format = stringField(req.body, 'format', false, 16);
    const files = readRequestFiles(bodyField(req.body, 'files'));
    const target = findBuildable(targetId);
    if (!target) {
      throw new VmgenError('VMG_USAGE', `unknown target "${targetId}"`, { hint: `targets: ${BUILDABLE_TARGET_IDS.join(', ')}` });
    }
    const formats: readonly string[] = target.commander.formats;
    const chosen = format ?? formats[0]!;
    if (!formats.includes(chosen)) throw new VmgenError('VMG_USAGE', `${target.label} archives are ${formats.join(' or ')}, not "${chosen}"`);
    // `vmgen lab validate --target`'s check, every machine planned, off this thread and under a time budget.
    const checked = await checker.check({ kind: 'lab', text, target: target.id, ...(files ? { files } : {}) }, user.id);
    if (!checked.valid || !checked.topology) {
      const errors = checked.diagnostics.filter((d) => d.severity === 'error').length;
      return reply.code(422).send({
        error: { code: 'VMG_CONFIG_INVALID', message: `the lab does not validate (${errors} error${errors === 1 ? '' : 's'})` },
        diagnostics: checked.diagnostics,
      });
    }
    const lab = await jobs.labs.submit(user, {
      text, target: target.id, format: chosen, name: checked.name, topology: checked.topology, machines: checked.machines, ...(files ? { files } : {}),
    });
    const view = jobs.labs.view(lab, user);
    return reply.code(202).header('location', `/api/labs/${lab.id}`)
      .send({ ...view, ...(checked.diagnostics.length ? { diagnostics: checked.diagnostics } : {}) });
  });

  app.get('/api/labs', async (req) => {
    const user = userOf(req);
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const all = user.admin && (q.all === '1' || q.all === 'true');
    return db.listLabs(all ? {} : { ownerId: user.id }).map((l) => jobs.labs.view(l, user));
  });

  app.get<{ Params: { id: string } }>('/api/labs/:id', async (req) => jobs.labs.view(visibleLab(deps, req, req.params.id), userOf(req)));

  app.get<{ Params: { id: string } }>('/api/labs/:id/archive', async (req, reply) => {
    const lab = visibleLab(deps, req, req.params.id);
    return sendArtifact(deps.store, jobs.labs.archiveBuild(lab), req, reply);
  });

  /** Cancels a lab that has not ended (every job of it); deletes one that has, with its jobs and archive. */
  app.delete<{ Params: { id: string } }>('/api/labs/:id', async (req, reply) => {
    const lab = visibleLab(deps, req, req.params.id);
    const done = await jobs.labs.cancelOrRemove(lab);
    if (done === 'deleted') return reply.code(204).send();
    return reply.code(200).send(jobs.labs.view(db.getLab(lab.id)!, userOf(req)));
  });
}
