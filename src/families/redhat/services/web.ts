import type { WebLayout } from '../../linux/services/web.js';

/**
 * httpd on Fedora and EL reads every conf.d/*.conf, so writing the file is enabling the site, and
 * mod_ssl, once installed, loads itself (conf.modules.d) and listens on 443 (its ssl.conf). Its
 * own _default_:443 host sorts before vmgen's files and answers for names no site has over HTTPS.
 */
export const REDHAT_WEB: WebLayout = {
  siteFile: (name) => `/etc/httpd/conf.d/vmgen-${name}.conf`,
  certFile: (name) => `/etc/pki/tls/certs/vmgen-${name}.crt`,
  keyFile: (name) => `/etc/pki/tls/private/vmgen-${name}.key`,
  tlsPackages: ['mod_ssl', 'openssl'],
  enable: () => [],
};
