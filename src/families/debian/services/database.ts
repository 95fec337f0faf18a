import type { DatabaseLayout } from '../../linux/services/database.js';

/**
 * Debian's servers need nothing more: mariadb-server and postgresql bring their clients, and
 * postgresql's install makes and starts its cluster (pg_createcluster) by itself.
 */
export const DEBIAN_DATABASE: DatabaseLayout = {
  packages: { mariadb: [], postgresql: [] },
  prepare: {},
};
