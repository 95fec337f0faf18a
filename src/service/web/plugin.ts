import type { FastifyPluginAsync } from 'fastify';

/** The web page and its config endpoints (issue 6). Placeholder until the page lands: serves nothing. */
export const webPlugin: FastifyPluginAsync = async () => {};
