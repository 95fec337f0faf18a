import { VmgenError } from '../../errors.js';
import type { BuildRow, LabRow, ServiceDb, User } from '../db.js';
import type { RequestFiles } from '../request-files.js';
import { newBuildId } from '../routes/common.js';
import { isFinalState, type BuildState, type LabJobRequest } from '../types.js';
import type { LabTopology, LabView } from '../web/shared-types.js';
import { isFinalLabState, labState } from './state.js';

/*
 * The service's side of a lab (issue 16): a row in the labs table and one build per machine in the
 * job table, so the executor (in-process slots or `vmgen worker`s on several hosts) builds the
 * machines as it builds anything else. When the last machine is built, the server submits one more
 * job, the assembly, which fetches the machines' outputs from the artifact store and puts the lab's
 * archive together. The server decides when, because only it sees every job's end (workers know
 * their own jobs only, and "the last worker to finish" is a race between hosts); the assembly runs
 * as a job, because it needs what builds need (the tools, the cache, room for the archives), which
 * the server's host may not have.
 */

/** What LabJobs asks of the job table's owner (Jobs); an interface, so this module does not import it back. */
export interface LabJobTable {
  submit(user: User, input: { config: string; target: string; format: string; name: string; steps: readonly string[]; files?: RequestFiles; lab: LabJobRequest }, counted: boolean): Promise<BuildRow>;
  cancel(row: BuildRow): Promise<BuildRow>;
  remove(row: BuildRow): Promise<void>;
}

export interface LabJobsLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LabJobsOptions {
  db: ServiceDb;
  jobs: LabJobTable;
  maxQueuedPerUser: number;
  log: LabJobsLog;
}

/** Machines one lab may have: each is a build, and one request should not fill a queue for hours. */
export const MAX_LAB_MACHINES = 100;

/** A machine of a validated lab, as the checker returns it. */
export interface CheckedLabMachine {
  name: string;
  /** Its config as it will be built (the entry's config with the lab's set values and NICs). */
  text: string;
  steps: string[];
}

export interface NewLabRequest {
  text: string;
  target: string;
  format: string;
  files?: RequestFiles;
  name: string;
  topology: LabTopology;
  machines: CheckedLabMachine[];
}

export class LabJobs {
  constructor(private readonly o: LabJobsOptions) {}

  /**
   * A lab and its machines' jobs, queued in the lab's order. A lab counts as one submission
   * against the user's queue limit: a course's twenty machines are one request.
   */
  async submit(user: User, input: NewLabRequest): Promise<LabRow> {
    const { db, jobs } = this.o;
    if (input.machines.length > MAX_LAB_MACHINES) {
      throw new VmgenError('VMG_TOO_LARGE', `the lab has ${input.machines.length} machines; a server builds at most ${MAX_LAB_MACHINES} in one lab`,
        { hint: 'split it, or build it with vmgen lab build on a build host' });
    }
    const queued = db.countInState(user.id, 'queued');
    if (queued >= this.o.maxQueuedPerUser) {
      throw new VmgenError('VMG_QUEUE_FULL', `you have ${queued} builds waiting; the limit is ${this.o.maxQueuedPerUser}`,
        { hint: 'wait for some to start, or cancel some (DELETE /api/builds/ID or /api/labs/ID)' });
    }
    const lab = db.insertLab({
      id: newBuildId(), owner: user.name, ownerId: user.id, name: input.name, target: input.target, format: input.format, text: input.text,
      topology: input.topology, created: new Date().toISOString(), ...(input.files ? { files: input.files } : {}),
    });
    this.o.log.info({ lab: lab.id, owner: user.name, machines: input.machines.length }, 'lab submitted');
    for (const [position, m] of input.machines.entries()) {
      try {
        const row = await jobs.submit(user, {
          config: m.text, target: input.target, format: input.format, name: m.name, steps: m.steps,
          lab: { role: 'member', lab: lab.id, text: input.text, machine: m.name }, ...(input.files ? { files: input.files } : {}),
        }, true);
        db.addLabMachine(lab.id, position, m.name, row.id);
      } catch (err) {
        // The lab cannot be whole: what was queued of it is cancelled, and the caller hears why.
        db.endLab(lab.id, { error: `machine ${m.name} could not be queued: ${(err as Error).message}` });
        await this.cancelJobs(lab);
        throw err;
      }
    }
    return db.getLab(lab.id)!;
  }

  /** A lab job's request again (a restart re-submits queued jobs). */
  request(row: BuildRow): LabJobRequest | undefined {
    const lab = row.lab === null ? undefined : this.o.db.getLab(row.lab);
    if (!lab) return undefined;
    if (lab.assembly === row.id) return { role: 'assemble', lab: lab.id, text: lab.text, members: this.memberArtifacts(lab) };
    const machine = this.o.db.labMachines(lab.id).find((m) => m.build === row.id)?.machine;
    return machine === undefined ? undefined : { role: 'member', lab: lab.id, text: lab.text, machine };
  }

  /** Called by the job table when one of a lab's jobs has ended (in any final state). */
  jobEnded(build: BuildRow): void {
    const lab = build.lab === null ? undefined : this.o.db.getLab(build.lab);
    if (!lab) return;
    void this.advance(lab, build).catch((err: Error) => this.o.log.error({ lab: lab.id, err: err.message }, 'cannot advance a lab'));
  }

  private async advance(lab: LabRow, ended: BuildRow): Promise<void> {
    const { db } = this.o;
    const machines = this.machineRows(lab);
    if (ended.state !== 'succeeded' && !lab.canceled) {
      const what = lab.assembly === ended.id ? 'the assembly' : `machine ${ended.name}`;
      db.endLab(lab.id, { error: ended.state === 'canceled' ? `${what} was cancelled` : `${what} failed: ${ended.error ?? ended.state}` });
      await this.cancelJobs(lab);
    } else if (lab.assembly === null && machines.every((m) => m.row?.state === 'succeeded') && !lab.canceled) {
      await this.assemble(lab);
    }
    const now = db.getLab(lab.id);
    if (now && isFinalLabState(this.view(now).state) && this.allEnded(now)) db.dropLabFiles(lab.id);
  }

  private async assemble(lab: LabRow): Promise<void> {
    const { db, jobs } = this.o;
    const files = db.labFiles(lab.id);
    const owner: User = { id: lab.ownerId ?? '', name: lab.owner, admin: false };
    // Recorded before the submit: a second machine ending now sees the lab has its assembly.
    const placeholder = `pending-${lab.id}`;
    if (!db.setLabAssembly(lab.id, placeholder)) return;
    try {
      const row = await jobs.submit(owner, {
        config: lab.text, target: lab.target, format: lab.format, name: lab.name, steps: [...ASSEMBLY_STEPS],
        lab: { role: 'assemble', lab: lab.id, text: lab.text, members: this.memberArtifacts(lab) },
        ...(files ? { files } : {}),
      }, true);
      db.db.prepare('UPDATE labs SET assembly = ? WHERE id = ?').run(row.id, lab.id);
      this.o.log.info({ lab: lab.id, build: row.id }, 'every machine of the lab is built; assembling');
    } catch (err) {
      db.db.prepare('UPDATE labs SET assembly = NULL WHERE id = ?').run(lab.id);
      db.endLab(lab.id, { error: `the assembly could not be queued: ${(err as Error).message}` });
    }
  }

  private memberArtifacts(lab: LabRow): Array<{ machine: string; artifact: NonNullable<BuildRow['artifact']> }> {
    return this.machineRows(lab).map((m) => {
      if (!m.row?.artifact) throw new VmgenError('VMG_NOT_FOUND', `machine ${m.machine} of lab ${lab.id} has no stored output`);
      return { machine: m.machine, artifact: m.row.artifact };
    });
  }

  private machineRows(lab: LabRow): Array<{ machine: string; build: string; row: BuildRow | undefined }> {
    return this.o.db.labMachines(lab.id).map((m) => ({ ...m, row: this.o.db.getBuild(m.build) }));
  }

  private allEnded(lab: LabRow): boolean {
    const assembly = lab.assembly === null ? undefined : this.o.db.getBuild(lab.assembly);
    return this.machineRows(lab).every((m) => !m.row || isFinalState(m.row.state)) && (!assembly || isFinalState(assembly.state));
  }

  /** Cancels every job of the lab that has not ended. */
  private async cancelJobs(lab: LabRow): Promise<void> {
    const now = this.o.db.getLab(lab.id) ?? lab;
    const ids = [...this.o.db.labMachines(lab.id).map((m) => m.build), ...(now.assembly && !now.assembly.startsWith('pending-') ? [now.assembly] : [])];
    for (const id of ids) {
      const row = this.o.db.getBuild(id);
      if (row && !isFinalState(row.state)) await this.o.jobs.cancel(row);
    }
  }

  /** DELETE /api/labs/:id: cancels a lab that has not ended; deletes one that has, with its jobs and their artifacts. */
  async cancelOrRemove(lab: LabRow): Promise<'cancelled' | 'deleted'> {
    if (!isFinalLabState(this.view(lab).state)) {
      this.o.db.endLab(lab.id, { canceled: true });
      await this.cancelJobs(lab);
      if (this.allEnded(lab)) this.o.db.dropLabFiles(lab.id);
      return 'cancelled';
    }
    const ids = [...this.o.db.labMachines(lab.id).map((m) => m.build), ...(lab.assembly ? [lab.assembly] : [])];
    for (const id of ids) {
      const row = this.o.db.getBuild(id);
      if (row && isFinalState(row.state)) await this.o.jobs.remove(row);
    }
    this.o.db.deleteLab(lab.id);
    this.o.log.info({ lab: lab.id }, 'lab deleted');
    return 'deleted';
  }

  /** The lab as the API shows it: its topology, its state from its jobs, each machine's job. */
  view(lab: LabRow, viewer?: User): LabView {
    const machines = this.machineRows(lab).map(({ machine, build, row }) => ({
      name: machine, build, state: row?.state ?? GONE, step: row?.step ?? null, progress: row?.progress ?? 0,
      ...(row?.worker ? { worker: row.worker } : {}),
      ...(row ? (row.error !== null ? { error: row.error } : {}) : { error: 'the job was removed by the server\'s clean-up' }),
    }));
    const assemblyRow = lab.assembly === null ? undefined : this.o.db.getBuild(lab.assembly);
    const state = labState({ machines: machines.map((m) => m.state), canceled: lab.canceled, ...(assemblyRow ? { assembly: assemblyRow.state } : {}) });
    const archive = state === 'done' && assemblyRow?.artifact ? assemblyRow.artifact : undefined;
    return {
      id: lab.id, name: lab.name, target: lab.target, format: lab.format, state, final: isFinalLabState(state), created: lab.created,
      topology: lab.topology, machines,
      ...(assemblyRow ? {
        assembly: {
          build: assemblyRow.id, state: assemblyRow.state,
          ...(assemblyRow.worker ? { worker: assemblyRow.worker } : {}), ...(assemblyRow.error !== null ? { error: assemblyRow.error } : {}),
        },
      } : {}),
      ...(lab.error !== null ? { error: lab.error } : {}),
      ...(archive ? { archive: { name: archive.name, bytes: archive.bytes, sha256: archive.sha256 } } : {}),
      ...(viewer?.admin ? { owner: lab.owner } : {}),
    };
  }

  /** The build holding the lab's archive, when the lab is done. */
  archiveBuild(lab: LabRow): BuildRow {
    const row = lab.assembly === null ? undefined : this.o.db.getBuild(lab.assembly);
    if (!row || this.view(lab).state !== 'done') {
      throw new VmgenError('VMG_NOT_FOUND', `lab ${lab.id} has no archive: it is ${this.view(lab).state}`);
    }
    return row;
  }
}

/** A machine whose job the build GC removed: shown as failed, with the reason as its error. */
const GONE: BuildState = 'failed';

/** The assembly job's steps as the page numbers them (the runner reports the same names). */
export const ASSEMBLY_STEPS = ['fetch the machines', 'assemble the lab', 'store the archive'] as const;
