import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadCatalogs } from '../../../src/catalog/load.js';
import { resolveSpec, type ResolvedSpec } from '../../../src/config/resolve.js';
import type { DatabaseEngine, ResolvedDatabase } from '../../../src/config/resolve-services.js';
import { debianConfigurator } from '../../../src/families/debian/configure.js';
import { DEBIAN_DATABASE } from '../../../src/families/debian/services/database.js';
import {
  SETUP_SQL, SETUP_UNIT, databasePackages, databasePlan, mariadbGrantDatabase, mariadbIdent, mariadbString, postgresIdent,
  postgresString, renderSetupSql, type DatabaseLayout,
} from '../../../src/families/linux/services/database.js';
import { redhatConfigurator } from '../../../src/families/redhat/configure.js';
import { POSTGRESQL_INITDB_UNIT, REDHAT_DATABASE } from '../../../src/families/redhat/services/database.js';
import { loadConfig } from '../../../src/validate/load.js';
import { includesAll, includesNone } from '../../helpers/assert-values.js';
import { assertGoldenTree, guestPlanTree } from '../../helpers/golden.js';

const catalogs = loadCatalogs({ env: {} });

/** A machine with one database section; the passwords are set below, where the INI's quoting cannot get in the way. */
function dbSpec(os: string, engine: DatabaseEngine): ResolvedSpec {
  const text = [
    '[hardware]', `    os = ${os}`, '[config]', '    hostname = db',
    '[database]', `    engine = ${engine}`,
    '    [[shop]]', '        user = shop', '        password = x',
    '    [[wiki_db]]', '        name = Wiki_DB', '        user = wiki', '        password = x',
  ].join('\n');
  const loaded = loadConfig(`${text}\n`, { catalogs });
  if (loaded.config === undefined) throw new Error(`the database config does not load: ${JSON.stringify(loaded.diagnostics)}`);
  const spec = resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
  const database: ResolvedDatabase = {
    engine,
    databases: [
      { name: 'shop', user: 'shop', password: "it's a \\ test" },
      { name: 'Wiki_DB', user: 'wi"ki`', password: 'plain' },
    ],
  };
  return { ...spec, provision: { ...spec.provision, services: { ...spec.provision.services, database } } };
}

const FAMILIES: ReadonlyArray<{ name: string; os: string; layout: DatabaseLayout }> = [
  { name: 'debian', os: 'debian12-64', layout: DEBIAN_DATABASE },
  { name: 'redhat', os: 'fedora42-64', layout: REDHAT_DATABASE },
];

describe('database setup (golden)', () => {
  for (const f of FAMILIES) {
    for (const engine of ['mariadb', 'postgresql'] as const) {
      it(`${f.name}, ${engine}: the SQL, the setup unit and what the family adds`, () => {
        const spec = dbSpec(f.os, engine);
        const plan = databasePlan(spec, f.layout);
        const tree = guestPlanTree(plan, databasePackages(spec.provision.services.database, f.layout));
        tree.set('review/database-setup.sql', plan.files.find((x) => x.path === SETUP_SQL)?.review ?? '(no review text)');
        assertGoldenTree(`services/database/${f.name}-${engine}`, tree);
      });
    }
  }
});

describe('database setup', () => {
  it('the SQL file is readable by root only, and its review text has no password', () => {
    const spec = dbSpec('debian12-64', 'mariadb');
    const sql = databasePlan(spec, DEBIAN_DATABASE).files.find((x) => x.path === SETUP_SQL);
    assert.ok(sql, 'no SQL file in the plan');
    assert.equal(sql.mode, 0o600);
    includesAll(sql.content, [mariadbString("it's a \\ test")]);
    includesNone(sql.review ?? '', ["it's", 'plain']);
    includesAll(sql.review ?? '', ["IDENTIFIED BY <redacted>"]);
  });

  it('the setup unit waits for the family\'s server unit, named by the catalog', () => {
    const unit = databasePlan(dbSpec('fedora42-64', 'postgresql'), REDHAT_DATABASE).files.find((x) => x.path.endsWith(`${SETUP_UNIT}.service`));
    includesAll(unit?.content ?? '', ['Requires=postgresql.service', 'After=postgresql.service', `StandardInput=file:${SETUP_SQL}`, 'runuser -u postgres -- psql']);
  });

  it('the configurators enable the setup unit (and RedHat\'s initdb for PostgreSQL) and ask for the clients', () => {
    const deb = { spec: dbSpec('debian12-64', 'mariadb'), nicOwner: 'target' as const };
    includesAll(debianConfigurator.plan(deb).commands.at(-1)?.argv ?? [], ['systemctl', 'enable', 'mariadb', SETUP_UNIT]);
    const rh = { spec: dbSpec('fedora42-64', 'postgresql'), nicOwner: 'target' as const };
    includesAll(redhatConfigurator.plan(rh).commands.at(-1)?.argv ?? [], ['postgresql', POSTGRESQL_INITDB_UNIT, SETUP_UNIT]);
    includesAll(redhatConfigurator.packages(rh), ['postgresql']);
    includesAll(redhatConfigurator.plan(rh).files.map((x) => x.path), [SETUP_SQL, `/etc/systemd/system/${POSTGRESQL_INITDB_UNIT}.service`]);
  });

  it('no [database], nothing', () => {
    const spec = dbSpec('debian12-64', 'mariadb');
    const none = { ...spec, provision: { ...spec.provision, services: {} } };
    assert.deepEqual(databasePlan(none, DEBIAN_DATABASE), { files: [], links: [], commands: [] });
  });

  it('PostgreSQL: statements are idempotent and the password is quoted once', () => {
    const sql = renderSetupSql({ engine: 'postgresql', databases: [{ name: 'a', user: 'b', password: "p'w" }] });
    includesAll(sql, [
      'SET standard_conforming_strings = on;',
      `SELECT 'CREATE ROLE "b" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'b')\\gexec`,
      `ALTER ROLE "b" WITH LOGIN PASSWORD 'p''w';`,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Quoting: each literal read back by a small model of the server's lexer gives the text itself.

/** Reads a quoted literal as MariaDB's lexer does (backslash escapes on): its value and where it ends. */
function readMariadbString(sql: string): { value: string; end: number } {
  assert.equal(sql[0], "'", `does not start with a quote: ${sql}`);
  const unescape: Record<string, string> = { '0': '\0', n: '\n', r: '\r', Z: '\x1a', t: '\t', b: '\b' };
  let value = '';
  for (let i = 1; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '\\') { const n = sql[++i] ?? ''; value += unescape[n] ?? n; continue; }
    if (c === "'") {
      if (sql[i + 1] === "'") { value += "'"; i++; continue; }
      return { value, end: i + 1 };
    }
    value += c;
  }
  throw new Error(`unterminated literal: ${sql}`);
}

/** Reads a literal (or identifier) closed by `q`, where a doubled `q` stands for itself. */
function readDoubled(sql: string, q: string): { value: string; end: number } {
  assert.equal(sql[0], q, `does not start with ${q}: ${sql}`);
  let value = '';
  for (let i = 1; i < sql.length; i++) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) { value += q; i++; continue; }
      return { value, end: i + 1 };
    }
    value += sql[i]!;
  }
  throw new Error(`unterminated: ${sql}`);
}

describe('SQL quoting', () => {
  const text = fc.string({ unit: 'binary' });
  const tricky = fc.stringMatching(/^['"`\\%_\0\n\r\x1a a-z]*$/);

  it('MariaDB strings read back as written, and end where the literal ends', () => {
    fc.assert(fc.property(fc.oneof(text, tricky), (s) => {
      const q = mariadbString(s);
      assert.deepEqual(readMariadbString(`${q};`), { value: s, end: q.length });
    }));
  });

  it('PostgreSQL strings and identifiers, MariaDB identifiers read back as written', () => {
    fc.assert(fc.property(fc.oneof(text, tricky), (s) => {
      for (const [quoted, q] of [[postgresString(s), "'"], [postgresIdent(s), '"'], [mariadbIdent(s), '`']] as const) {
        assert.deepEqual(readDoubled(`${quoted} x`, q), { value: s, end: quoted.length });
      }
    }));
  });

  it('a GRANT names one database: _ and % are not wildcards there', () => {
    assert.equal(mariadbGrantDatabase('wiki_db'), '`wiki\\_db`');
    assert.equal(mariadbGrantDatabase('100%'), '`100\\%`');
  });

  it('PostgreSQL: the statement \\gexec runs names the role and database as written', () => {
    const sql = renderSetupSql({ engine: 'postgresql', databases: [{ name: `d'b"x`, user: `u'"`, password: 'p' }] });
    const create = /^SELECT (.*) WHERE NOT EXISTS .*pg_database/m.exec(sql)?.[1] ?? '';
    const statement = readDoubled(create, "'").value;
    assert.equal(statement, `CREATE DATABASE ${postgresIdent(`d'b"x`)} OWNER ${postgresIdent(`u'"`)}`);
  });
});
