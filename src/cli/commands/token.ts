import { resolve } from 'node:path';
import { VmgenError } from '../../errors.js';
import { createToken } from '../../service/auth.js';
import type { ServiceDb } from '../../service/db.js';
import type { CliIo } from '../io.js';
import { routeOutput, table } from '../shared.js';
import { defaultDataDir } from './serve.js';
import type { RegisterCommand } from './types.js';

const dataHelp = 'data directory of `vmgen serve` ($VMGEN_DATA_DIR sets the default)';

async function withDb<T>(io: CliIo, data: string, fn: (db: ServiceDb) => T): Promise<T> {
  // Loaded on use: the native SQLite module has no business in every other vmgen command's start-up.
  const { ServiceDb } = await import('../../service/db.js');
  const db = ServiceDb.open(resolve(io.cwd, data));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export const registerToken: RegisterCommand = (program, io) => {
  const token = program.command('token').description('API users and their tokens (works while `vmgen serve` runs)');
  routeOutput(token, io);

  token
    .command('create')
    .description('make a user (or another token for one) and print the new token on the last line; it is not stored in clear')
    .argument('<name>', 'user name')
    .option('--admin', 'the user sees and manages every build')
    .option('--data <dir>', dataHelp, defaultDataDir())
    .action(async (name: string, flags: { admin?: boolean; data: string }) => {
      const r = await withDb(io, flags.data, (db) => createToken(db, name, flags.admin === true));
      io.stderr.write(`${r.created ? 'created user' : 'added a token for'} ${name}${flags.admin ? ' (admin)' : ''}; keep the token secret, it is shown only now\n`);
      io.stdout.write(`${r.token}\n`);
    });

  token
    .command('list')
    .description('list users, their role and token count')
    .option('--data <dir>', dataHelp, defaultDataDir())
    .option('--json', 'print JSON')
    .action(async (flags: { data: string; json?: boolean }) => {
      const users = await withDb(io, flags.data, (db) => db.listUsers());
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
        return;
      }
      io.stdout.write(table([['NAME', 'ROLE', 'TOKENS', 'CREATED', 'LAST USED'],
        ...users.map((u) => [u.name, u.admin ? 'admin' : 'user', String(u.tokens), u.created, u.lastUsed ?? '-'])]));
    });

  token
    .command('revoke')
    .description('remove a user and all their tokens at once; their builds stay for admins, and a user made again under the name does not see them')
    .argument('<name>', 'user name')
    .option('--data <dir>', dataHelp, defaultDataDir())
    .action(async (name: string, flags: { data: string }) => {
      const removed = await withDb(io, flags.data, (db) => db.revokeUser(name));
      if (!removed) throw new VmgenError('VMG_NOT_FOUND', `no user ${name}`, { hint: 'vmgen token list' });
      io.stderr.write(`revoked ${name}\n`);
    });
};
