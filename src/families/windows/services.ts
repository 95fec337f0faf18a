import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { ResolvedDhcpScope, ResolvedServices, ResolvedSite, ResolvedZone, ResolvedZoneRecord } from '../../config/resolve-services.js';
import { absoluteName } from '../../config/service-values.js';
import { parseMac } from '../../config/validators.js';
import { VmgenError } from '../../errors.js';
import { adapterName, windowsRelease, type WindowsRelease } from './releases.js';

/*
 * Windows Server's answer to [web], [dns] and [dhcp]: the IIS, DNS Server and DHCP Server roles,
 * configured by one PowerShell script that config.bat runs once. Every value from the config is a
 * single-quoted PowerShell string, in which PowerShell expands nothing; no value is interpolated.
 *
 * The cmdlets, as Microsoft documents them (https://learn.microsoft.com/en-us/powershell/module/…):
 *   servermanager/install-windowsfeature: DNS, DHCP, Web-Server with -IncludeManagementTools;
 *   dnsserver/add-dnsserverprimaryzone (-Name -ZoneFile), add-dnsserverresourcerecorda, …aaaa,
 *     …cname (-HostNameAlias, an FQDN), …mx (-MailExchange -Preference), add-dnsserverresourcerecord
 *     (-Txt -DescriptiveText, -NS -NameServer), set-dnsserverresourcerecord (the SOA, changed on a
 *     copy of the old record, [ciminstance]::new($OldObj) as its example 1 does), set-dnsserverforwarder;
 *   dhcpserver/add-dhcpserverv4scope (-StartRange -EndRange -SubnetMask -LeaseDuration),
 *     set-dhcpserverv4optionvalue (-Router -DnsServer -DnsDomain; -Force skips its check that the
 *     DNS servers answer, which this server's own DNS may not do yet), add-dhcpserverv4reservation
 *     (-ClientId: the MAC), set-dhcpserverv4binding, add-dhcpserversecuritygroup;
 *   webadministration/new-website (-HostHeader -PhysicalPath -Port), new-webbinding (-SslFlags 1:
 *     SNI, so several https sites share port 443), whose example 2 adds the certificate with
 *     (Get-WebBinding …).AddSslCertificate(THUMBPRINT, 'my');
 *   pki/new-selfsignedcertificate (-DnsName -CertStoreLocation Cert:\LocalMachine\My).
 */

export const SERVICES_PS1 = 'vmgen-services.ps1';

/**
 * PowerShell reads a single-quoted string literally; its only escape is a doubled quote, and its
 * tokenizer takes the typographic single quotes (U+2018, U+2019, U+201A, U+201B) for quotes too
 * (about_Quoting_Rules; the language specification's single-quote-character), so each is doubled.
 */
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/** Why a value cannot be a PowerShell single-quoted string in vmgen's scripts, or undefined. */
export function psProblem(value: string): string | undefined {
  // A line break would be kept, but a value of one line that spans two is a mistake, not a wish.
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'control characters (line breaks, tabs…) do not belong in this value';
  return undefined;
}

/** `value` as a PowerShell single-quoted string. */
export function psQuote(value: string, what = 'a value'): string {
  const problem = psProblem(value);
  if (problem !== undefined) throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what} cannot be written into a PowerShell script: ${problem}`);
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

const psList = (values: readonly string[], what: string): string => values.map((v) => psQuote(v, what)).join(', ');
const seconds = (s: number): string => `(New-TimeSpan -Seconds ${s})`;

/** The roles the script configures, in the order it configures them. */
const ROLES: ReadonlyArray<{ key: keyof ResolvedServices; feature: string; lines(spec: ResolvedSpec, release: WindowsRelease): string[] }> = [
  { key: 'dns', feature: 'DNS', lines: (spec) => dnsLines(spec.provision.services.dns!) },
  { key: 'dhcp', feature: 'DHCP', lines: (spec, release) => dhcpLines(spec.provision.services.dhcp!.scopes, spec.nics, release) },
  { key: 'web', feature: 'Web-Server', lines: (spec) => webLines(spec.provision.services.web!.sites) },
];

/** The service sections Windows Server configures; [router] and [database] are refused by validation. */
export const WINDOWS_SERVICES: ReadonlyArray<keyof ResolvedServices> = ROLES.map((r) => r.key);

/** The script, or undefined when the config has none of [web], [dns], [dhcp]. Windows PowerShell 5.1 reads it. */
export function renderServicesPs1(spec: ResolvedSpec): string | undefined {
  const services = spec.provision.services;
  const roles = ROLES.filter((r) => services[r.key] !== undefined);
  if (roles.length === 0) return undefined;
  const release = windowsRelease(spec.os);
  if (!release.server) {
    throw new VmgenError('VMG_UNSUPPORTED', `${spec.os.label}: the ${roles.map((r) => r.feature).join(', ')} role${roles.length > 1 ? 's are' : ' is a'} Windows Server role${roles.length > 1 ? 's' : ''}`, { hint: 'use a Windows Server OS' });
  }
  const lines = [
    '# vmgen: configures the server roles of this machine once; config.bat runs it.',
    '# Every value from the config is a single-quoted string, in which PowerShell expands nothing.',
    "$ErrorActionPreference = 'Stop'",
    '',
    ...roles.flatMap((r) => [
      `# ${r.feature}`,
      `Install-WindowsFeature -Name ${r.feature} -IncludeManagementTools | Out-Null`,
      ...r.lines(spec, release),
      '',
    ]),
    "Write-Output 'vmgen: the server roles are configured'",
  ];
  // Windows PowerShell 5.1 reads a script without a byte order mark in the ANSI code page
  // (about_Character_Encoding), so the BOM makes it read UTF-8; CRLF as every vmgen script for Windows.
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** An owner name relative to its zone, as the -Name of the record cmdlets takes it: @ for the zone itself. */
function relativeName(fqdn: string, zone: string): string {
  return fqdn === zone ? '@' : fqdn.slice(0, -(zone.length + 1));
}

/** A target name (CNAME, MX, NS) as an absolute name with its final dot, so nothing appends the zone again. */
const fqdnOf = (name: string, zone: string): string => `${absoluteName(name, zone)}.`;

/** hostmaster@lab.example as the SOA's responsible person: hostmaster.lab.example., dots in the local part escaped. */
export function soaMailbox(email: string): string {
  const at = email.lastIndexOf('@');
  const local = at < 0 ? 'hostmaster' : email.slice(0, at);
  const domain = (at < 0 ? email : email.slice(at + 1)).replace(/\.$/, '');
  return `${local.replaceAll('.', '\\.')}.${domain}.`;
}

function recordLine(r: ResolvedZoneRecord, z: ResolvedZone): string {
  const common = `-ZoneName ${psQuote(z.zone, 'a zone')} -Name ${psQuote(relativeName(r.fqdn, z.zone), 'a record name')} -TimeToLive ${seconds(z.ttl)}`;
  const what = `the ${r.type} record of ${r.fqdn}`;
  switch (r.type) {
    case 'A':
      return `Add-DnsServerResourceRecordA ${common} -IPv4Address ${psQuote(r.value, what)}`;
    case 'AAAA':
      return `Add-DnsServerResourceRecordAAAA ${common} -IPv6Address ${psQuote(r.value, what)}`;
    case 'CNAME':
      return `Add-DnsServerResourceRecordCName ${common} -HostNameAlias ${psQuote(fqdnOf(r.value, z.zone), what)}`;
    case 'MX':
      return `Add-DnsServerResourceRecordMX ${common} -MailExchange ${psQuote(fqdnOf(r.value, z.zone), what)} -Preference ${r.preference ?? 10}`;
    case 'TXT':
      return `Add-DnsServerResourceRecord ${common} -Txt -DescriptiveText ${psQuote(r.value, what)}`;
    case 'NS':
      return `Add-DnsServerResourceRecord ${common} -NS -NameServer ${psQuote(fqdnOf(r.value, z.zone), what)}`;
  }
}

function dnsLines(dns: NonNullable<ResolvedServices['dns']>): string[] {
  return [
    ...dns.zones.flatMap((z) => {
      const zone = psQuote(z.zone, 'a zone');
      const ns = `${z.ns}.`;
      // The zone's own NS record is the configured name server; a record naming it again would be a duplicate.
      const records = z.records.filter((r) => !(r.type === 'NS' && r.fqdn === z.zone && fqdnOf(r.value, z.zone) === ns));
      return [
        `Add-DnsServerPrimaryZone -Name ${zone} -ZoneFile ${psQuote(`${z.zone}.dns`, 'a zone file')}`,
        // Windows names itself in the new zone's SOA and NS records; the config names the server and its contact.
        `$old = Get-DnsServerResourceRecord -ZoneName ${zone} -Name '@' -RRType Soa`,
        '$new = [ciminstance]::new($old)',
        `$new.RecordData.PrimaryServer = ${psQuote(ns, 'the name server')}`,
        `$new.RecordData.ResponsiblePerson = ${psQuote(soaMailbox(z.email), 'the zone contact')}`,
        `$new.RecordData.MinimumTimeToLive = ${seconds(z.ttl)}`,
        `Set-DnsServerResourceRecord -ZoneName ${zone} -OldInputObject $old -NewInputObject $new`,
        `Get-DnsServerResourceRecord -ZoneName ${zone} -Name '@' -RRType NS | Remove-DnsServerResourceRecord -ZoneName ${zone} -Force`,
        `Add-DnsServerResourceRecord -ZoneName ${zone} -Name '@' -NS -NameServer ${psQuote(ns, 'the name server')} -TimeToLive ${seconds(z.ttl)}`,
        ...records.map((r) => recordLine(r, z)),
      ];
    }),
    ...(dns.forwarders.length === 0 ? [] : [`Set-DnsServerForwarder -IPAddress ${psList(dns.forwarders, 'a forwarder')}`]),
  ];
}

/** The MAC as Get-NetAdapter prints it: upper case, '-' between the bytes. */
function netAdapterMac(mac: string, what: string): string {
  const parsed = parseMac(mac);
  if (!parsed.ok) throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what}: ${parsed.message}`);
  return parsed.value.toUpperCase().replaceAll(':', '-');
}

/**
 * Binds the DHCP server to the scope's adapter only. The adapter is found by its MAC as config.bat
 * finds it; without one, by the name Windows gives the NIC's slot.
 */
function bindingLines(scope: ResolvedDhcpScope, nics: readonly ResolvedNic[], release: WindowsRelease): string[] {
  const nic = nics.find((n) => n.name === scope.nic);
  if (nic?.mac === undefined) {
    const name = adapterName(release, nic?.index ?? 0);
    return [`Set-DhcpServerv4Binding -InterfaceAlias ${psQuote(name, 'an adapter name')} -BindingState $true`];
  }
  const mac = netAdapterMac(nic.mac, `hw_addr of ${nic.name}`);
  return [
    `$adapter = @(Get-NetAdapter | Where-Object MacAddress -eq ${psQuote(mac)})`,
    `if ($adapter.Count -ne 1) { throw ${psQuote(`vmgen: no single network adapter has the MAC address ${mac} (${scope.nic}); the DHCP server is not bound to it`)} }`,
    'Set-DhcpServerv4Binding -InterfaceAlias $adapter[0].Name -BindingState $true',
  ];
}

function dhcpLines(scopes: readonly ResolvedDhcpScope[], nics: readonly ResolvedNic[], release: WindowsRelease): string[] {
  return [
    // What Server Manager's post-install wizard does on a server outside a domain: the DHCP
    // Administrators and DHCP Users groups, a restart of the service to use them, and the flag
    // that tells Server Manager the role is configured (Roles\12 is DHCP).
    'Add-DhcpServerSecurityGroup',
    'Restart-Service -Name DHCPServer',
    "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\ServerManager\\Roles\\12' -Name ConfigurationState -Value 2",
    // Windows binds the server to every adapter with a static address; only the scopes' NICs serve.
    'Get-DhcpServerv4Binding | Set-DhcpServerv4Binding -BindingState $false',
    ...scopes.flatMap((s) => {
      const id = psQuote(s.subnet, 'a subnet');
      const options = [
        ...(s.gateway === undefined ? [] : [`-Router ${psQuote(s.gateway)}`]),
        ...(s.dns.length === 0 ? [] : [`-DnsServer ${psList(s.dns, 'a DNS server')}`]),
        ...(s.domain === undefined ? [] : [`-DnsDomain ${psQuote(s.domain, 'a domain')}`]),
      ];
      return [
        `Add-DhcpServerv4Scope -Name ${psQuote(s.nic, 'a NIC name')} -StartRange ${psQuote(s.range.from)} -EndRange ${psQuote(s.range.to)} -SubnetMask ${psQuote(s.netmask)} -LeaseDuration ${seconds(s.leaseSeconds)} -State Active`,
        ...(options.length === 0 ? [] : [`Set-DhcpServerv4OptionValue -ScopeId ${id} ${options.join(' ')} -Force`]),
        ...s.hosts.map((h) => `Add-DhcpServerv4Reservation -ScopeId ${id} -IPAddress ${psQuote(h.address)} -ClientId ${psQuote(netAdapterMac(h.mac, `fixed host ${h.name}`))} -Name ${psQuote(h.name, 'a host name')}`),
        ...bindingLines(s, nics, release),
      ];
    }),
  ];
}

function webLines(sites: readonly ResolvedSite[]): string[] {
  return [
    'Import-Module WebAdministration',
    // IIS's own site answers every name on port 80; removed, a name no site serves gets no welcome page.
    "if (Test-Path 'IIS:\\Sites\\Default Web Site') { Remove-Website -Name 'Default Web Site' }",
    ...sites.flatMap((s) => {
      const name = psQuote(s.id, 'a site name');
      const names = [s.serverName, ...s.aliases];
      return [
        `New-Item -ItemType Directory -Force -Path ${psQuote(s.root, 'a document root')} | Out-Null`,
        `New-Website -Name ${name} -HostHeader ${psQuote(s.serverName)} -PhysicalPath ${psQuote(s.root, 'a document root')} -Port 80 | Out-Null`,
        ...s.aliases.map((a) => `New-WebBinding -Name ${name} -Protocol http -Port 80 -HostHeader ${psQuote(a)}`),
        ...(s.tls ? [
          `$cert = New-SelfSignedCertificate -DnsName ${psList(names, 'a site name')} -CertStoreLocation 'Cert:\\LocalMachine\\My'`,
          ...names.flatMap((n) => [
            `New-WebBinding -Name ${name} -Protocol https -Port 443 -HostHeader ${psQuote(n)} -SslFlags 1`,
            `(Get-WebBinding -Name ${name} -Protocol https -HostHeader ${psQuote(n)}).AddSslCertificate($cert.GetCertHashString(), 'My')`,
          ]),
        ] : []),
      ];
    }),
  ];
}
