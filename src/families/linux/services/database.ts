import { SERVICE_APPS, type DatabaseEngine, type ResolvedDatabase, type ResolvedServices } from '../../../config/resolve-services.js';
import type { ResolvedSpec } from '../../../config/resolve.js';
import type { GuestFile, GuestPlan } from '../../types.js';

/*
 * [database]: databases and their users, for every Linux family. A database server cannot run
 * while the image is built (there is no init in the guest's root then), so the build writes an
 * SQL file and a oneshot unit that runs it on the first boot, as the server's administrator,
 * once: a marker under /var/lib/vmgen says it succeeded. The SQL holds the passwords: the file is
 * 0600 and `vmgen render` shows it with them redacted. Every statement may run again unchanged
 * (after a failed first attempt, or when the marker is removed).
 */

export const SETUP_UNIT = 'vmgen-database-setup';
export const SETUP_SQL = '/etc/vmgen/database-setup.sql';
export const SETUP_MARKER = '/var/lib/vmgen/database-setup.done';

/** What one family adds to an engine: client packages, and a unit the server needs before its first start. */
export interface DatabaseLayout {
  packages: Record<DatabaseEngine, readonly string[]>;
  prepare: Partial<Record<DatabaseEngine, { unit: string; content: string }>>;
}

type Database = ResolvedDatabase['databases'][number];

/** How the setup drives each engine (its administrator's client, the SQL it is fed), and how verify logs in. */
interface Engine {
  /** The setup unit's command, fed the SQL file on stdin. */
  admin: readonly string[];
  sql(databases: readonly Database[], password: (d: Database) => string): string[];
  /**
   * A client's login over TCP as the database's user, the password read from stdin (never in
   * argv, where any process could read it), printing what `loginAnswer` expects.
   */
  login: readonly string[];
  loginAnswer(d: Database): string;
}

const REDACTED = '<redacted>';

// ---------------------------------------------------------------------------------------------
// MariaDB

/**
 * A MariaDB string literal: backslash escapes as mysql_real_escape_string makes them, so any
 * password (quotes, backslashes, control characters) reaches the server as written. The SQL first
 * makes sure NO_BACKSLASH_ESCAPES is off, which these escapes need.
 */
export function mariadbString(s: string): string {
  const escapes: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' };
  return `'${s.replace(/[\\'\0\n\r\x1a]/g, (c) => escapes[c]!)}'`;
}

/** A MariaDB identifier: backticks, a backtick doubled. */
export function mariadbIdent(s: string): string {
  return `\`${s.replace(/`/g, '``')}\``;
}

/** GRANT reads `_` and `%` in a database name as wildcards; escaped, the grant is for this database alone. */
export function mariadbGrantDatabase(name: string): string {
  return mariadbIdent(name.replace(/[\\_%]/g, (c) => `\\${c}`));
}

/**
 * Each user twice: @localhost, which beats the anonymous ''@localhost some installations create
 * (it would otherwise take a local login), and @'%' for clients on the network.
 */
const MARIADB_HOSTS = ['localhost', '%'] as const;

const mariadb: Engine = {
  admin: ['mariadb', '--protocol=socket', '--user=root', '--batch'],
  login: ['sh', '-c', 'IFS= read -r MYSQL_PWD; export MYSQL_PWD; exec mariadb --protocol=tcp -h 127.0.0.1 -u "$1" -D "$2" -N -B -e "SELECT DATABASE()"', 'vmgen-login'],
  loginAnswer: (d) => d.name,
  sql: (databases, password) => [
    "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '');",
    ...databases.flatMap((d) => {
      const accounts = MARIADB_HOSTS.map((h) => `${mariadbString(d.user)}@${mariadbString(h)}`);
      return [
        `CREATE DATABASE IF NOT EXISTS ${mariadbIdent(d.name)};`,
        ...accounts.flatMap((a) => [
          `CREATE USER IF NOT EXISTS ${a} IDENTIFIED BY ${password(d)};`,
          `ALTER USER ${a} IDENTIFIED BY ${password(d)};`,
        ]),
        `GRANT ALL PRIVILEGES ON ${mariadbGrantDatabase(d.name)}.* TO ${accounts.join(', ')};`,
      ];
    }),
  ],
};

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** A PostgreSQL string literal with standard_conforming_strings on (the SQL sets it): only ' is special. */
export function postgresString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A PostgreSQL identifier: double quotes, a quote doubled; quoted, the name keeps its case. */
export function postgresIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * PostgreSQL has no CREATE ROLE or CREATE DATABASE … IF NOT EXISTS, and CREATE DATABASE cannot
 * run in a DO block; psql's \gexec runs the statement a query returns, only when it returns one.
 * The password is only ever in a plain ALTER ROLE, one level of quoting deep.
 */
const postgresql: Engine = {
  admin: ['runuser', '-u', 'postgres', '--', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres'],
  // PGDATABASE, not -d: psql reads a -d value with = in it as a connection string.
  login: [
    'sh', '-c',
    'IFS= read -r PGPASSWORD; PGUSER="$1"; PGDATABASE="$2"; export PGPASSWORD PGUSER PGDATABASE; ' +
      'exec psql -X -h 127.0.0.1 -A -t -c "SELECT current_database(), pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = current_database()"',
    'vmgen-login',
  ],
  loginAnswer: (d) => `${d.name}|${d.user}`,
  sql: (databases, password) => [
    'SET standard_conforming_strings = on;',
    ...databases.flatMap((d) => {
      const user = postgresIdent(d.user);
      const db = postgresIdent(d.name);
      return [
        `SELECT ${postgresString(`CREATE ROLE ${user} LOGIN`)} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${postgresString(d.user)})\\gexec`,
        `ALTER ROLE ${user} WITH LOGIN PASSWORD ${password(d)};`,
        `SELECT ${postgresString(`CREATE DATABASE ${db} OWNER ${user}`)} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${postgresString(d.name)})\\gexec`,
        `ALTER DATABASE ${db} OWNER TO ${user};`,
      ];
    }),
  ],
};

export const ENGINES: Record<DatabaseEngine, Engine & { quote(s: string): string }> = {
  mariadb: { ...mariadb, quote: mariadbString },
  postgresql: { ...postgresql, quote: postgresString },
};

// ---------------------------------------------------------------------------------------------
// The plan

/** The SQL the setup unit runs; `redact` puts <redacted> in place of every password, for review. */
export function renderSetupSql(db: ResolvedDatabase, redact = false): string {
  const engine = ENGINES[db.engine];
  const password = (d: Database): string => (redact ? REDACTED : engine.quote(d.password));
  return [
    `-- The databases and users of [database], generated by vmgen; run once by ${SETUP_UNIT}.service.`,
    ...engine.sql(db.databases, password),
    '',
  ].join('\n');
}

/** The unit of the catalog app that serves the engine: the family's name for the server's unit. */
export function serverUnit(spec: ResolvedSpec, services: ResolvedServices): string {
  const app = SERVICE_APPS.database(services)[0];
  const unit = spec.apps.find((a) => a.name === app)?.services[0];
  if (unit === undefined) throw new Error(`the database server (app ${app ?? '?'}) has no unit: resolveSpec implies it for a [database] section`);
  return unit;
}

export function renderSetupUnit(engine: DatabaseEngine, server: string): string {
  return `# Creates the databases and users of [database] on the first boot (a database server cannot run
# while the image is built), then leaves a marker so it never runs again. Generated by vmgen.
[Unit]
Description=vmgen: create the configured databases and users
Requires=${server}.service
After=${server}.service
ConditionPathExists=!${SETUP_MARKER}

[Service]
Type=oneshot
RemainAfterExit=yes
StateDirectory=vmgen
StandardInput=file:${SETUP_SQL}
StandardOutput=journal
ExecStart=${ENGINES[engine].admin.join(' ')}
ExecStartPost=touch ${SETUP_MARKER}

[Install]
WantedBy=multi-user.target
`;
}

/** Units to enable at boot: the family's preparation of the server, if any, and the setup. */
export function databaseUnits(db: ResolvedDatabase | undefined, layout: DatabaseLayout): string[] {
  if (db === undefined) return [];
  const prepare = layout.prepare[db.engine];
  return [...(prepare === undefined ? [] : [prepare.unit]), SETUP_UNIT];
}

export function databasePackages(db: ResolvedDatabase | undefined, layout: DatabaseLayout): string[] {
  return db === undefined ? [] : [...layout.packages[db.engine]];
}

export function databasePlan(spec: ResolvedSpec, layout: DatabaseLayout): GuestPlan {
  const db = spec.provision.services.database;
  if (db === undefined) return { files: [], links: [], commands: [] };
  const prepare = layout.prepare[db.engine];
  const files: GuestFile[] = [
    ...(prepare === undefined ? [] : [{ path: `/etc/systemd/system/${prepare.unit}.service`, content: prepare.content }]),
    { path: SETUP_SQL, content: renderSetupSql(db), review: renderSetupSql(db, true), mode: 0o600 },
    { path: `/etc/systemd/system/${SETUP_UNIT}.service`, content: renderSetupUnit(db.engine, serverUnit(spec, spec.provision.services)) },
  ];
  return { files, links: [], commands: [] };
}
