import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { VmgenError } from '../errors.js';
import type { RequestFiles } from './request-files.js';
import type { LabTopology } from './web/shared-types.js';
import type { RunCommand } from '../targets/types.js';
import { BUILD_STATES, FINAL_STATES, isFinalState, type ArtifactInfo, type BuildState, type BuildUpdate } from './types.js';

/**
 * The service's state in one SQLite file under the data directory: users and their token hashes,
 * the build table, each build's log, and the keys the server signs download links with. WAL, so
 * `vmgen token` can write while the server reads.
 */


/** A user name: also a rate-limit and log key, so nothing a terminal or a path could misread. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Lines kept per build: tool output can be long, the database should not grow without bound. */
export const MAX_LOG_LINES = 20_000;
const MAX_LOG_LINE_CHARS = 4000;

export interface User {
  /**
   * Random, made with the user: builds belong to it, not to the name, so a name made again after
   * `token revoke` is a new user who does not see the old one's builds.
   */
  id: string;
  name: string;
  admin: boolean;
}

export interface UserInfo extends Omit<User, 'id'> {
  created: string;
  tokens: number;
  lastUsed: string | null;
}

export interface BuildRow {
  id: string;
  /** The owner's name when the build was made (shown to admins, signed into download links). */
  owner: string;
  /** The owner's user id; a build of a revoked user has one no user has any more. */
  ownerId: string | null;
  state: BuildState;
  target: string;
  format: string;
  name: string;
  config: string;
  step: string | null;
  progress: number;
  created: string;
  started: string | null;
  finished: string | null;
  error: string | null;
  errorCode: string | null;
  worker: string | null;
  artifact: ArtifactInfo | null;
  logLines: number;
  /** The build plan's step names, in order, as the server planned them at submit time; empty for builds older than that. */
  steps: string[];
  /** The lab this build is a job of (a machine's, or the lab's assembly), else null. */
  lab: string | null;
  /** The commands that start the archive, as the server made them at submit time (ARCHIVE_PLACEHOLDER for it); empty for labs and older builds. */
  run: RunCommand[];
}

export interface NewBuild {
  id: string;
  owner: string;
  /** Default: the id of the user now called `owner`. */
  ownerId?: string;
  target: string;
  format: string;
  name: string;
  config: string;
  created: string;
  steps?: readonly string[];
  run?: readonly RunCommand[];
  /** The files the config names (relative path → base64), for the build to read. */
  files?: RequestFiles;
  /** The lab it is a job of. */
  lab?: string;
}

export interface LogLine {
  seq: number;
  line: string;
}

export interface AppliedUpdate {
  build: BuildRow;
  /** The update's log lines as stored, with their sequence numbers (the SSE event ids). */
  log: LogLine[];
  /** True when this update moved the build into a final state. */
  finished: boolean;
  /** An artifact the update brought for a build that had already ended: the caller removes it. */
  orphanArtifact?: ArtifactInfo;
}

/** Each entry runs once, in order, in a transaction; the migrations table records which ran. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     name TEXT PRIMARY KEY,
     admin INTEGER NOT NULL DEFAULT 0,
     created TEXT NOT NULL
   );
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY,
     user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
     created TEXT NOT NULL,
     last_used TEXT
   );
   CREATE INDEX tokens_user ON tokens(user);
   CREATE TABLE builds (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     state TEXT NOT NULL,
     target TEXT NOT NULL,
     format TEXT NOT NULL,
     name TEXT NOT NULL,
     config TEXT NOT NULL,
     step TEXT,
     progress REAL NOT NULL DEFAULT 0,
     created TEXT NOT NULL,
     started TEXT,
     finished TEXT,
     error TEXT,
     error_code TEXT,
     worker TEXT,
     artifact_key TEXT,
     artifact_name TEXT,
     artifact_bytes INTEGER,
     artifact_sha256 TEXT,
     log_lines INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX builds_owner ON builds(owner, created);
   CREATE INDEX builds_state ON builds(state, created);
   CREATE TABLE build_logs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     build TEXT NOT NULL,
     line TEXT NOT NULL
   );
   CREATE INDEX build_logs_build ON build_logs(build, seq);`,
  // Keys the server signs with (download links), made once and kept across restarts.
  `CREATE TABLE secrets (
     name TEXT PRIMARY KEY,
     value BLOB NOT NULL,
     created TEXT NOT NULL
   );`,
  // Builds belong to a user id: a name made again after a revoke is somebody else.
  `ALTER TABLE users ADD COLUMN id TEXT;
   UPDATE users SET id = lower(hex(randomblob(12)));
   CREATE UNIQUE INDEX users_id ON users(id);
   ALTER TABLE builds ADD COLUMN owner_id TEXT;
   UPDATE builds SET owner_id = (SELECT id FROM users WHERE users.name = builds.owner);
   CREATE INDEX builds_owner_id ON builds(owner_id, created);`,
  'ALTER TABLE builds ADD COLUMN steps TEXT;',
  // The files a request carried for its config's source keys, kept until the build ends.
  `CREATE TABLE build_files (
     build TEXT NOT NULL,
     path TEXT NOT NULL,
     content BLOB NOT NULL,
     PRIMARY KEY (build, path)
   );`,
  // Labs (issue 16): a lab is a row here and one build per machine, plus the build that assembles
  // their outputs; its state is derived from those builds. The lab's files stay until it ends,
  // for the assembly job (and a re-submit after a restart) to read the lab again.
  `CREATE TABLE labs (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     owner_id TEXT,
     name TEXT NOT NULL,
     target TEXT NOT NULL,
     format TEXT NOT NULL,
     text TEXT NOT NULL,
     topology TEXT NOT NULL,
     created TEXT NOT NULL,
     assembly TEXT,
     canceled INTEGER NOT NULL DEFAULT 0,
     error TEXT
   );
   CREATE INDEX labs_owner_id ON labs(owner_id, created);
   CREATE TABLE lab_machines (
     lab TEXT NOT NULL,
     position INTEGER NOT NULL,
     machine TEXT NOT NULL,
     build TEXT NOT NULL,
     PRIMARY KEY (lab, position)
   );
   CREATE INDEX lab_machines_build ON lab_machines(build);
   CREATE TABLE lab_files (
     lab TEXT NOT NULL,
     path TEXT NOT NULL,
     content BLOB NOT NULL,
     PRIMARY KEY (lab, path)
   );
   ALTER TABLE builds ADD COLUMN lab TEXT;
   CREATE INDEX builds_lab ON builds(lab);`,
  'ALTER TABLE builds ADD COLUMN run TEXT;',
];

/** 'errorCode' → 'error_code': the API's field names are the table's column names in camelCase. */
type CamelToSnake<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Uppercase<Head> ? (Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`) : Head}${CamelToSnake<Tail>}`
  : S;
type SnakeKeys<T> = { [K in keyof T & string as CamelToSnake<K>]: T[K] };

/**
 * A builds row as SQLite returns it, derived from BuildRow: each field is its column, except the
 * artifact, which is four nullable artifact_* columns (one per ArtifactInfo field). A new column
 * is a migration and a BuildRow field; toRow maps it by name. The step names and the run
 * commands are a JSON column each.
 */
type ArtifactColumns = SnakeKeys<{ [K in keyof ArtifactInfo & string as `artifact${Capitalize<K>}`]: ArtifactInfo[K] | null }>;
type RawBuild = SnakeKeys<Omit<BuildRow, 'artifact' | 'steps' | 'run'>> & ArtifactColumns & { steps: string | null; run: string | null };
type BuildColumn = keyof RawBuild & string;

const snakeToCamel = (column: string): string => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function toRow(r: RawBuild): BuildRow {
  const { artifact_key: key, artifact_name: name, artifact_bytes: bytes, artifact_sha256: sha256, steps, run, ...columns } = r;
  const row = Object.fromEntries(Object.entries(columns).map(([column, value]) => [snakeToCamel(column), value])) as Omit<BuildRow, 'artifact' | 'steps' | 'run'>;
  return {
    ...row, artifact: key === null ? null : { key, name: name ?? '', bytes: bytes ?? 0, sha256: sha256 ?? '' },
    steps: steps === null ? [] : JSON.parse(steps) as string[], run: run === null ? [] : JSON.parse(run) as RunCommand[],
  };
}

export interface LabRow {
  id: string;
  owner: string;
  ownerId: string | null;
  name: string;
  target: string;
  format: string;
  /** The lab file's text, as sent. */
  text: string;
  topology: LabTopology;
  created: string;
  /** The build that assembles the lab's archive, once every machine is built. */
  assembly: string | null;
  /** Its owner cancelled it. */
  canceled: boolean;
  /** Why the service ended it (a machine failed, a job could not be queued). */
  error: string | null;
}

export interface NewLab extends Omit<LabRow, 'assembly' | 'canceled' | 'error' | 'ownerId'> {
  ownerId: string;
  files?: RequestFiles;
}

type RawLab = Omit<SnakeKeys<LabRow>, 'topology' | 'canceled'> & { topology: string; canceled: number };

function labRow(r: RawLab): LabRow {
  return {
    id: r.id, owner: r.owner, ownerId: r.owner_id, name: r.name, target: r.target, format: r.format, text: r.text,
    topology: JSON.parse(r.topology) as LabTopology, created: r.created, assembly: r.assembly, canceled: r.canceled !== 0, error: r.error,
  };
}

/**
 * better-sqlite3 is an optional dependency: it compiles for a minute where no prebuilt binary can
 * be fetched, and only the service uses it, so the demo's setup leaves it out (npm ci
 * --omit=optional). Loaded when a database is opened, with a message saying what to install.
 */
function loadSqlite(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (err) {
    throw new VmgenError('VMG_TOOL_MISSING', `the service needs the npm package better-sqlite3, which is not installed: ${(err as Error).message.split('\n')[0]}`,
      { hint: 'run npm ci in vmgen\'s directory (bash scripts/setup.sh does it); the demo setup omits it', cause: err });
  }
}

export class ServiceDb {
  readonly db: Database.Database;
  private readonly secrets = new Map<string, Buffer>();
  /**
   * Statements by their text, compiled once: preparing costs more than running the small queries
   * the API makes on every request (a build's row, a token's user).
   */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(file: string) {
    const Sqlite = loadSqlite();
    try {
      this.db = new Sqlite(file);
    } catch (err) {
      throw new VmgenError('VMG_FILE_WRITE', `cannot open the service database ${file}: ${(err as Error).message}`, { cause: err });
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL under WAL loses at most the last commits on power loss, never consistency.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  /** Opens (creating if needed) the database in a data directory; the directory is private to root. */
  static open(dataDir: string): ServiceDb {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new VmgenError('VMG_FILE_WRITE', `cannot create the data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
    }
    const file = join(dataDir, 'service.db');
    try {
      // It holds the link-signing key: private to its owner, set before SQLite opens it because
      // SQLite gives the -wal and -shm files it creates the database file's mode.
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    } catch (err) {
      throw new VmgenError('VMG_FILE_WRITE', `cannot create the service database ${file}: ${(err as Error).message}`, { cause: err });
    }
    return new ServiceDb(file);
  }

  /** An in-memory database, for tests. */
  static memory(): ServiceDb {
    return new ServiceDb(':memory:');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (stmt === undefined) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
    const done = (this.sql('SELECT MAX(version) AS v FROM migrations').get() as { v: number | null }).v ?? 0;
    if (done > MIGRATIONS.length) {
      throw new VmgenError('VMG_FILE_WRITE', `the service database is at version ${done}, newer than this vmgen knows (${MIGRATIONS.length})`,
        { hint: 'run the vmgen that created it, or start with an empty --data directory' });
    }
    for (let v = done + 1; v <= MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]!);
        this.sql('INSERT INTO migrations (version, applied) VALUES (?, ?)').run(v, new Date().toISOString());
      })();
    }
  }

  schemaVersion(): number {
    return (this.sql('SELECT MAX(version) AS v FROM migrations').get() as { v: number }).v;
  }

  // ---- server secrets

  /**
   * A 32-byte key from the OS's random source, made the first time NAME is asked for and the same
   * ever after, in this process and any other that opens the file (the first insert wins a race).
   */
  secret(name: string): Buffer {
    let key = this.secrets.get(name);
    if (!key) {
      this.sql('INSERT OR IGNORE INTO secrets (name, value, created) VALUES (?, ?, ?)').run(name, randomBytes(32), new Date().toISOString());
      key = (this.sql('SELECT value FROM secrets WHERE name = ?').get(name) as { value: Buffer }).value;
      this.secrets.set(name, key);
    }
    return key;
  }

  // ---- users and tokens

  /** Adds a token for NAME, creating the user; an existing user keeps its role (a mismatch is refused). */
  addToken(name: string, admin: boolean, tokenHash: string): { created: boolean } {
    if (!USER_NAME.test(name)) {
      throw new VmgenError('VMG_USAGE', `bad user name "${name}"`, { hint: 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64' });
    }
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      const existing = this.sql('SELECT admin FROM users WHERE name = ?').get(name) as { admin: number } | undefined;
      if (existing && Boolean(existing.admin) !== admin) {
        throw new VmgenError('VMG_USAGE', `user ${name} exists and is ${existing.admin ? '' : 'not '}an admin`,
          { hint: `to change its role: vmgen token revoke ${name}, then create it again` });
      }
      if (!existing) this.sql('INSERT INTO users (id, name, admin, created) VALUES (?, ?, ?, ?)').run(randomBytes(12).toString('hex'), name, admin ? 1 : 0, now);
      this.sql('INSERT INTO tokens (hash, user, created) VALUES (?, ?, ?)').run(tokenHash, name, now);
      return { created: !existing };
    })();
  }

  userForTokenHash(hash: string): User | undefined {
    const row = this.sql(
      'SELECT u.id AS id, u.name AS name, u.admin AS admin, t.last_used AS lastUsed FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?',
    ).get(hash) as { id: string; name: string; admin: number; lastUsed: string | null } | undefined;
    if (!row) return undefined;
    // A write per request would serialize every reader behind the WAL; minute precision is enough.
    const now = Date.now();
    if (row.lastUsed === null || now - Date.parse(row.lastUsed) > 60_000) {
      this.sql('UPDATE tokens SET last_used = ? WHERE hash = ?').run(new Date(now).toISOString(), hash);
    }
    return { id: row.id, name: row.name, admin: Boolean(row.admin) };
  }

  listUsers(): UserInfo[] {
    const rows = this.sql(
      `SELECT u.name AS name, u.admin AS admin, u.created AS created, COUNT(t.hash) AS tokens, MAX(t.last_used) AS lastUsed
       FROM users u LEFT JOIN tokens t ON t.user = u.name GROUP BY u.name ORDER BY u.name`,
    ).all() as Array<{ name: string; admin: number; created: string; tokens: number; lastUsed: string | null }>;
    return rows.map((r) => ({ ...r, admin: Boolean(r.admin) }));
  }

  /** Removes the user and every token of theirs; their builds stay (for admins), seen by no new user of that name. */
  revokeUser(name: string): boolean {
    return this.sql('DELETE FROM users WHERE name = ?').run(name).changes > 0;
  }

  // ---- builds

  insertBuild(b: NewBuild): BuildRow {
    const { files, ...row } = b;
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO builds (id, owner, owner_id, state, target, format, name, config, created, steps, lab, run)
         VALUES (@id, @owner, COALESCE(@ownerId, (SELECT id FROM users WHERE name = @owner)), 'queued', @target, @format, @name, @config, @created, @steps, @lab, @run)`,
      ).run({ ...row, ownerId: row.ownerId ?? null, steps: JSON.stringify(row.steps ?? []), lab: row.lab ?? null, run: row.run?.length ? JSON.stringify(row.run) : null });
      const insert = this.sql('INSERT INTO build_files (build, path, content) VALUES (?, ?, ?)');
      for (const [path, b64] of Object.entries(files ?? {})) insert.run(b.id, path, Buffer.from(b64, 'base64'));
    })();
    return this.getBuild(b.id)!;
  }

  /** The files a build's request carried, until the build ends; undefined when it carried none (or has ended). */
  buildFiles(id: string): RequestFiles | undefined {
    const rows = this.sql('SELECT path, content FROM build_files WHERE build = ? ORDER BY path').all(id) as Array<{ path: string; content: Buffer }>;
    return rows.length === 0 ? undefined : Object.fromEntries(rows.map((r) => [r.path, r.content.toString('base64')]));
  }

  getBuild(id: string): BuildRow | undefined {
    const r = this.sql('SELECT * FROM builds WHERE id = ?').get(id) as RawBuild | undefined;
    return r && toRow(r);
  }

  /** Newest first; `ownerId` undefined lists everyone's. */
  listBuilds(opts: { ownerId?: string; state?: BuildState; limit?: number } = {}): BuildRow[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (opts.ownerId !== undefined) {
      where.push('owner_id = ?');
      args.push(opts.ownerId);
    }
    if (opts.state !== undefined) {
      where.push('state = ?');
      args.push(opts.state);
    }
    const sql = `SELECT * FROM builds ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created DESC, rowid DESC LIMIT ?`;
    return (this.sql(sql).all(...args, opts.limit ?? 100) as RawBuild[]).map(toRow);
  }

  /** Oldest first: the order builds were submitted, for re-submitting after a restart. */
  buildsInState(state: BuildState): BuildRow[] {
    return (this.sql('SELECT * FROM builds WHERE state = ? ORDER BY created, rowid').all(state) as RawBuild[]).map(toRow);
  }

  countInState(ownerId: string, state: BuildState): number {
    return (this.sql('SELECT COUNT(*) AS n FROM builds WHERE owner_id = ? AND state = ?').get(ownerId, state) as { n: number }).n;
  }

  /** Builds that ended before `iso`, oldest first: what the build GC deletes. */
  endedBefore(iso: string, limit = 1000): BuildRow[] {
    return (this.sql(
      `SELECT * FROM builds WHERE state IN (${FINAL_STATES.map(() => '?').join(', ')}) AND COALESCE(finished, created) < ? ORDER BY COALESCE(finished, created), rowid LIMIT ?`,
    ).all(...FINAL_STATES, iso, limit) as RawBuild[]).map(toRow);
  }

  countsByState(): Record<BuildState, number> {
    const counts = Object.fromEntries(BUILD_STATES.map((s) => [s, 0])) as Record<BuildState, number>;
    for (const r of this.sql('SELECT state, COUNT(*) AS n FROM builds GROUP BY state').all() as Array<{ state: BuildState; n: number }>) {
      counts[r.state] = r.n;
    }
    return counts;
  }

  /**
   * Applies one executor report. A build that has ended keeps its state: a late 'running' from a
   * worker that had not heard of a cancel must not revive it. Log lines are kept in any state.
   */
  applyUpdate(u: BuildUpdate): AppliedUpdate | undefined {
    return this.db.transaction((): AppliedUpdate | undefined => {
      const before = this.getBuild(u.id);
      if (!before) return undefined;
      const ended = isFinalState(before.state);
      const set: string[] = [];
      const args: Record<string, string | number | null> = { id: u.id };
      const put = (column: BuildColumn, value: string | number | null | undefined): void => {
        if (value === undefined) return;
        set.push(`${column} = @${column}`);
        args[column] = value;
      };
      let orphanArtifact: ArtifactInfo | undefined;
      if (!ended) {
        put('state', u.state);
        put('step', u.step);
        put('progress', u.progress === undefined ? undefined : Math.min(1, Math.max(0, u.progress)));
        put('started', u.started);
        put('finished', u.finished ?? (u.state && isFinalState(u.state) ? new Date().toISOString() : undefined));
        put('error', u.error);
        put('error_code', u.errorCode);
        put('worker', u.worker);
        if (u.artifact) {
          put('artifact_key', u.artifact.key);
          put('artifact_name', u.artifact.name);
          put('artifact_bytes', u.artifact.bytes);
          put('artifact_sha256', u.artifact.sha256);
        }
        if (u.state === 'running' && !u.started && !before.started) put('started', new Date().toISOString());
      } else if (u.artifact && u.artifact.key !== before.artifact?.key) {
        orphanArtifact = u.artifact;
      }
      if (set.length > 0) this.sql(`UPDATE builds SET ${set.join(', ')} WHERE id = @id`).run(args);
      const log = this.appendLog(u.id, before.logLines, u.log ?? []);
      const build = this.getBuild(u.id)!;
      const finished = !ended && isFinalState(build.state);
      // Only a build reads them, and an ended build is never run again: up to 16 MiB less per build kept.
      if (finished) this.sql('DELETE FROM build_files WHERE build = ?').run(u.id);
      return { build, log, finished, ...(orphanArtifact ? { orphanArtifact } : {}) };
    })();
  }

  private appendLog(id: string, have: number, lines: readonly string[]): LogLine[] {
    if (lines.length === 0 || have > MAX_LOG_LINES) return [];
    const room = MAX_LOG_LINES - have;
    const kept = lines.slice(0, room).map((l) => (l.length > MAX_LOG_LINE_CHARS ? `${l.slice(0, MAX_LOG_LINE_CHARS)}…` : l));
    if (lines.length > room) kept.push(`(log truncated: more than ${MAX_LOG_LINES} lines)`);
    const insert = this.sql('INSERT INTO build_logs (build, line) VALUES (?, ?)');
    const out = kept.map((line) => ({ seq: Number(insert.run(id, line).lastInsertRowid), line }));
    this.sql('UPDATE builds SET log_lines = log_lines + ? WHERE id = ?').run(kept.length, id);
    return out;
  }

  logLines(id: string, afterSeq = 0): LogLine[] {
    return this.sql('SELECT seq, line FROM build_logs WHERE build = ? AND seq > ? ORDER BY seq').all(id, afterSeq) as LogLine[];
  }

  /** Ends a build the service itself decided about (a cancel while queued, a restart). */
  finish(id: string, state: 'failed' | 'canceled', error?: { message: string; code: string }): AppliedUpdate | undefined {
    return this.applyUpdate({ id, state, finished: new Date().toISOString(), ...(error ? { error: error.message, errorCode: error.code } : {}) });
  }

  deleteBuild(id: string): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM build_logs WHERE build = ?').run(id);
      this.sql('DELETE FROM build_files WHERE build = ?').run(id);
      this.sql('DELETE FROM builds WHERE id = ?').run(id);
    })();
  }

  /** Every build that holds an artifact, oldest finished first (the order GC deletes in). */
  artifacts(): Array<{ id: string; finished: string; artifact: ArtifactInfo }> {
    const rows = this.sql(
      `SELECT * FROM builds WHERE artifact_key IS NOT NULL ORDER BY COALESCE(finished, created), rowid`,
    ).all() as RawBuild[];
    return rows.map(toRow).map((r) => ({ id: r.id, finished: r.finished ?? r.created, artifact: r.artifact! }));
  }

  clearArtifact(id: string): void {
    this.sql(
      'UPDATE builds SET artifact_key = NULL, artifact_name = NULL, artifact_bytes = NULL, artifact_sha256 = NULL WHERE id = ?',
    ).run(id);
  }

  // ---- labs

  insertLab(l: NewLab): LabRow {
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO labs (id, owner, owner_id, name, target, format, text, topology, created)
         VALUES (@id, @owner, @ownerId, @name, @target, @format, @text, @topology, @created)`,
      ).run({ ...l, topology: JSON.stringify(l.topology) });
      const insert = this.sql('INSERT INTO lab_files (lab, path, content) VALUES (?, ?, ?)');
      for (const [path, b64] of Object.entries(l.files ?? {})) insert.run(l.id, path, Buffer.from(b64, 'base64'));
    })();
    return this.getLab(l.id)!;
  }

  getLab(id: string): LabRow | undefined {
    const r = this.sql('SELECT * FROM labs WHERE id = ?').get(id) as RawLab | undefined;
    return r && labRow(r);
  }

  /** Newest first; `ownerId` undefined lists everyone's. */
  listLabs(opts: { ownerId?: string; limit?: number } = {}): LabRow[] {
    const rows = opts.ownerId === undefined
      ? this.sql('SELECT * FROM labs ORDER BY created DESC, rowid DESC LIMIT ?').all(opts.limit ?? 100)
      : this.sql('SELECT * FROM labs WHERE owner_id = ? ORDER BY created DESC, rowid DESC LIMIT ?').all(opts.ownerId, opts.limit ?? 100);
    return (rows as RawLab[]).map(labRow);
  }

  addLabMachine(lab: string, position: number, machine: string, build: string): void {
    this.sql('INSERT INTO lab_machines (lab, position, machine, build) VALUES (?, ?, ?, ?)').run(lab, position, machine, build);
  }

  /** The lab's machines in the lab's order, each with its build's id. */
  labMachines(lab: string): Array<{ machine: string; build: string }> {
    return this.sql('SELECT machine, build FROM lab_machines WHERE lab = ? ORDER BY position').all(lab) as Array<{ machine: string; build: string }>;
  }

  /** The lab's files as a request carries them; undefined once the lab has ended (or when it had none). */
  labFiles(lab: string): RequestFiles | undefined {
    const rows = this.sql('SELECT path, content FROM lab_files WHERE lab = ? ORDER BY path').all(lab) as Array<{ path: string; content: Buffer }>;
    return rows.length === 0 ? undefined : Object.fromEntries(rows.map((r) => [r.path, r.content.toString('base64')]));
  }

  dropLabFiles(lab: string): void {
    this.sql('DELETE FROM lab_files WHERE lab = ?').run(lab);
  }

  /**
   * Records the lab's assembly build, once: false when the lab has one already (two machines that
   * ended in the same tick both see every machine built; only the first assembles).
   */
  setLabAssembly(lab: string, build: string): boolean {
    return this.sql('UPDATE labs SET assembly = ? WHERE id = ? AND assembly IS NULL').run(build, lab).changes > 0;
  }

  /** Marks the lab cancelled or failed by the service, keeping the first reason given. */
  endLab(lab: string, how: { canceled?: boolean; error?: string }): void {
    if (how.canceled) this.sql('UPDATE labs SET canceled = 1 WHERE id = ?').run(lab);
    if (how.error !== undefined) this.sql('UPDATE labs SET error = COALESCE(error, ?) WHERE id = ?').run(how.error, lab);
  }

  deleteLab(lab: string): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM lab_files WHERE lab = ?').run(lab);
      this.sql('DELETE FROM lab_machines WHERE lab = ?').run(lab);
      this.sql('DELETE FROM labs WHERE id = ?').run(lab);
    })();
  }

  /** Whether any build row refers to this artifact key. */
  hasArtifactKey(key: string): boolean {
    return this.sql('SELECT 1 FROM builds WHERE artifact_key = ? LIMIT 1').get(key) !== undefined;
  }
}
