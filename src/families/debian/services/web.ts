import type { WebLayout } from '../../linux/services/web.js';

/**
 * Debian's Apache keeps sites in sites-available and switches them on with a2ensite. Its own
 * 000-default site is switched off, so the first configured site answers for names no site has
 * (an address typed in a browser), as on RedHat, where no site comes before vmgen's.
 */
export const DEBIAN_WEB: WebLayout = {
  siteFile: (name) => `/etc/apache2/sites-available/vmgen-${name}.conf`,
  certFile: (name) => `/etc/ssl/certs/vmgen-${name}.crt`,
  keyFile: (name) => `/etc/ssl/private/vmgen-${name}.key`,
  tlsPackages: ['openssl'],
  enable: (names, tls) => [
    ...(tls ? [{ argv: ['a2enmod', '-q', 'ssl'], why: 'switch on Apache\'s TLS module' }] : []),
    { argv: ['a2dissite', '-q', '000-default'], why: 'switch off Debian\'s default site, so a configured site answers for unknown names' },
    { argv: ['a2ensite', '-q', ...names.map((n) => `vmgen-${n}`)], why: `switch on the site${names.length === 1 ? '' : 's'} ${names.join(', ')}` },
  ],
};
