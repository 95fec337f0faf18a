import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labState } from '../../src/service/labs/state.js';
import type { BuildRequest } from '../../src/service/types.js';
import type { LabView } from '../../src/service/web/shared-types.js';
import { ROOT, testService, waitFor, type TestService } from './fakes.js';

/*
 * POST /api/labs and what follows, with the fake executor: the real loader and checker read the
 * example lab, each machine becomes a build job, and the tests play the executor's part (start,
 * store an output, fail) to see the lab's state, its assembly job and its archive follow.
 */

const NET101 = join(ROOT, 'examples', 'net101');
const LAB = readFileSync(join(NET101, 'lab.conf'), 'utf8');
const FILES = Object.fromEntries(['gw.conf', 'web.conf', 'pc.conf', 'students.csv'].map((f) => [f, readFileSync(join(NET101, f)).toString('base64')]));
const MACHINES = ['gw', 'web', 'pc1', 'pc2', 'pc3', 'pc4', 'pc5', 'pc6'];

describe('labState: a lab\'s state from its jobs', () => {
  test('each state from the jobs that make it', () => {
    assert.equal(labState({ machines: ['queued', 'queued'], canceled: false }), 'queued');
    assert.equal(labState({ machines: ['running', 'queued'], canceled: false }), 'running');
    assert.equal(labState({ machines: ['succeeded', 'succeeded'], canceled: false }), 'running', 'built, not yet assembled');
    assert.equal(labState({ machines: ['succeeded', 'succeeded'], assembly: 'running', canceled: false }), 'running');
    assert.equal(labState({ machines: ['succeeded', 'succeeded'], assembly: 'succeeded', canceled: false }), 'done');
    assert.equal(labState({ machines: ['failed', 'running'], canceled: false }), 'failed');
    assert.equal(labState({ machines: ['succeeded', 'succeeded'], assembly: 'failed', canceled: false }), 'failed');
    assert.equal(labState({ machines: ['canceled', 'succeeded'], canceled: false }), 'cancelled');
    assert.equal(labState({ machines: ['running', 'queued'], canceled: true }), 'cancelled', 'the owner\'s cancel wins over running jobs');
  });
});

describe('POST /api/labs', () => {
  let svc: TestService;
  before(async () => {
    svc = await testService();
  });
  after(async () => {
    await svc.close();
  });

  const post = (body: unknown, user: 'alice' | 'bob' = 'alice') => svc.app.inject({ method: 'POST', url: '/api/labs', headers: svc.auth(user), payload: body as object });
  const view = async (id: string, user: 'alice' | 'bob' = 'alice'): Promise<LabView> => {
    const r = await svc.app.inject({ method: 'GET', url: `/api/labs/${id}`, headers: svc.auth(user) });
    assert.equal(r.statusCode, 200, r.body);
    return r.json<LabView>();
  };
  const jobsOf = (labId: string): BuildRequest[] => svc.executor.submitted.filter((r) => r.lab?.lab === labId);

  test('a lab that does not validate: 422, each problem at its file, line and column', async () => {
    const bad = LAB.replace('eth0 = dmz:10.20.0.10', 'eth0 = dmx:10.20.0.10');
    const line = bad.split('\n').findIndex((l) => l.includes('dmx:')) + 1;
    const r = await post({ lab: bad, target: 'lxc', files: FILES });
    assert.equal(r.statusCode, 422, r.body);
    const body = r.json<{ error: { code: string }; diagnostics: Array<{ file: string; line: number; column: number; severity: string; message: string }> }>();
    assert.equal(body.error.code, 'VMG_CONFIG_INVALID');
    const hit = body.diagnostics.find((d) => d.severity === 'error' && d.file === 'lab.conf' && d.line === line);
    assert.ok(hit, `an error at lab.conf:${line} about the unknown network, in ${JSON.stringify(body.diagnostics)}`);
    assert.ok(hit.column > 0, `a column for ${JSON.stringify(hit)}`);
    assert.equal(svc.executor.submitted.length, 0, 'nothing queued for a lab that does not validate');
  });

  test('a missing machine config is reported at the lab line that names it', async () => {
    const { 'pc.conf': _gone, ...rest } = FILES;
    const r = await post({ lab: LAB, target: 'lxc', files: rest });
    assert.equal(r.statusCode, 422, r.body);
    const diags = r.json<{ diagnostics: Array<{ file: string; line: number; message: string }> }>().diagnostics;
    const line = LAB.split('\n').findIndex((l) => l.includes('config = pc.conf')) + 1;
    assert.ok(diags.some((d) => d.file === 'lab.conf' && d.line === line), `pc.conf missing at lab.conf:${line}, in ${JSON.stringify(diags)}`);
  });

  test('one job per machine; the state follows them; the assembly comes last and its archive is the lab\'s', async () => {
    const r = await post({ lab: LAB, target: 'lxc', files: FILES });
    assert.equal(r.statusCode, 202, r.body);
    const lab = r.json<LabView>();
    assert.equal(r.headers.location, `/api/labs/${lab.id}`);
    assert.equal(lab.state, 'queued');
    assert.deepEqual(lab.topology.networks.map((n) => `${n.name} ${n.subnet}`), ['dmz 10.20.0.0/24', 'lan 10.10.0.0/24']);
    assert.deepEqual(lab.topology.machines.find((m) => m.name === 'gw')?.nics.map((n) => `${n.nic}=${n.network}:${n.address}`), ['eth0=dmz:10.20.0.1', 'eth1=lan:10.10.0.1']);
    assert.ok(!JSON.stringify(lab).includes('passwd'), 'the view holds the topology, not the configs and their passwords');
    const jobs = jobsOf(lab.id);
    assert.deepEqual(jobs.map((j) => j.lab?.role === 'member' ? j.lab.machine : '?'), MACHINES, 'one member job per machine, in the lab\'s order');
    assert.ok(jobs.every((j) => j.files?.['students.csv'] === FILES['students.csv']), 'each job carries the lab\'s files');
    assert.match(jobs[2]!.config, /hostname = pc1\n[\s\S]*name = ada/, 'a member\'s config is the machine as it will be built');
    assert.deepEqual(lab.machines.map((m) => m.build), jobs.map((j) => j.id));

    svc.executor.startBuild(jobs[0]!.id);
    let v = await view(lab.id);
    assert.equal(v.state, 'running');
    assert.equal(v.machines[0]!.state, 'running');
    assert.equal(v.machines[0]!.worker, 'fake-worker');

    for (const j of jobs) await svc.executor.succeed(j.id, svc.store, svc.dir, `member ${j.id}`, `${j.id}-member.tar`);
    await waitFor(() => jobsOf(lab.id).length === jobs.length + 1);
    const assembly = jobsOf(lab.id).at(-1)!;
    assert.equal(assembly.lab?.role, 'assemble');
    assert.ok(assembly.lab?.role === 'assemble' && assembly.lab.members.map((m) => m.machine).join() === MACHINES.join(), 'the assembly names every machine');
    assert.ok(assembly.lab?.role === 'assemble' && assembly.lab.members.every((m, i) => m.artifact.key === `${jobs[i]!.id}/${jobs[i]!.id}-member.tar`), 'with each machine\'s stored output');
    v = await view(lab.id);
    assert.equal(v.state, 'running', 'built but not assembled');
    assert.equal(v.assembly?.build, assembly.id);
    const early = await svc.app.inject({ method: 'GET', url: `/api/labs/${lab.id}/archive`, headers: svc.auth('alice') });
    assert.equal(early.statusCode, 404, 'no archive before the assembly');

    await svc.executor.succeed(assembly.id, svc.store, svc.dir, 'the lab archive', 'net101-lxc.tar.zst');
    v = await view(lab.id);
    assert.equal(v.state, 'done');
    assert.equal(v.final, true);
    assert.equal(v.archive?.name, 'net101-lxc.tar.zst');
    const got = await svc.app.inject({ method: 'GET', url: `/api/labs/${lab.id}/archive`, headers: svc.auth('alice') });
    assert.equal(got.statusCode, 200);
    assert.equal(got.body, 'the lab archive');
    assert.equal(svc.db.labFiles(lab.id), undefined, 'the lab\'s files are dropped once it has ended');

    const other = await svc.app.inject({ method: 'GET', url: `/api/labs/${lab.id}`, headers: svc.auth('bob') });
    assert.equal(other.statusCode, 404, 'another user\'s lab is not found');
    const list = await svc.app.inject({ method: 'GET', url: '/api/labs', headers: svc.auth('bob') });
    assert.deepEqual(list.json(), [], 'nor listed');

    const del = await svc.app.inject({ method: 'DELETE', url: `/api/labs/${lab.id}`, headers: svc.auth('alice') });
    assert.equal(del.statusCode, 204);
    assert.equal(svc.db.getLab(lab.id), undefined);
    assert.equal(svc.db.getBuild(assembly.id), undefined, 'its jobs go with it');
  });

  test('a machine that fails fails the lab and cancels the rest; no assembly', async () => {
    const r = await post({ lab: LAB, target: 'lxc', files: FILES });
    const lab = r.json<LabView>();
    const jobs = jobsOf(lab.id);
    svc.executor.startBuild(jobs[1]!.id);
    svc.executor.emit({ id: jobs[1]!.id, state: 'failed', error: 'apt-get install failed', errorCode: 'VMG_BUILD' });
    await waitFor(() => jobs.slice(2).every((j) => svc.executor.canceled.includes(j.id)));
    const v = await view(lab.id);
    assert.equal(v.state, 'failed');
    assert.match(v.error ?? '', /machine web failed: apt-get install failed/);
    assert.equal(jobsOf(lab.id).length, jobs.length, 'no assembly job');
  });

  test('DELETE cancels a lab that runs: every job of it', async () => {
    const lab = (await post({ lab: LAB, target: 'lxc', files: FILES })).json<LabView>();
    const jobs = jobsOf(lab.id);
    svc.executor.startBuild(jobs[0]!.id);
    const r = await svc.app.inject({ method: 'DELETE', url: `/api/labs/${lab.id}`, headers: svc.auth('alice') });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json<LabView>().state, 'cancelled');
    assert.ok(jobs.every((j) => svc.db.getBuild(j.id)?.state === 'canceled'), 'every job cancelled');
  });
});
