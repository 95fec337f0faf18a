/**
 * How the service's request log shows a request: fastify's own fields, with the signature of a
 * download link blanked, since the URL is the whole credential for that link's lifetime.
 * Kept free of the service's other modules: `vmgen serve` makes its logger before loading them.
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&]sig=)[^&#]*/g, '$1<redacted>');
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export const REQUEST_LOG_SERIALIZERS = {
  req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
};
