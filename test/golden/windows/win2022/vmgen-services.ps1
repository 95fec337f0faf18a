# vmgen: configures the server roles of this machine once; config.bat runs it.
# Every value from the config is a single-quoted string, in which PowerShell expands nothing.
$ErrorActionPreference = 'Stop'

# DNS
Install-WindowsFeature -Name DNS -IncludeManagementTools | Out-Null
Add-DnsServerPrimaryZone -Name 'lab.example' -ZoneFile 'lab.example.dns'
$old = Get-DnsServerResourceRecord -ZoneName 'lab.example' -Name '@' -RRType Soa
$new = [ciminstance]::new($old)
$new.RecordData.PrimaryServer = 'labsrv.lab.example.'
$new.RecordData.ResponsiblePerson = 'hostmaster.lab.example.'
$new.RecordData.MinimumTimeToLive = (New-TimeSpan -Seconds 300)
Set-DnsServerResourceRecord -ZoneName 'lab.example' -OldInputObject $old -NewInputObject $new
Get-DnsServerResourceRecord -ZoneName 'lab.example' -Name '@' -RRType NS | Remove-DnsServerResourceRecord -ZoneName 'lab.example' -Force
Add-DnsServerResourceRecord -ZoneName 'lab.example' -Name '@' -NS -NameServer 'labsrv.lab.example.' -TimeToLive (New-TimeSpan -Seconds 300)
Add-DnsServerResourceRecordA -ZoneName 'lab.example' -Name '@' -TimeToLive (New-TimeSpan -Seconds 300) -IPv4Address '10.0.2.1'
Add-DnsServerResourceRecordMX -ZoneName 'lab.example' -Name '@' -TimeToLive (New-TimeSpan -Seconds 300) -MailExchange 'mail.lab.example.' -Preference 10
Add-DnsServerResourceRecord -ZoneName 'lab.example' -Name '@' -TimeToLive (New-TimeSpan -Seconds 300) -Txt -DescriptiveText 'it''s the lab'
Add-DnsServerResourceRecordA -ZoneName 'lab.example' -Name 'labsrv' -TimeToLive (New-TimeSpan -Seconds 300) -IPv4Address '10.0.2.1'
Add-DnsServerResourceRecordA -ZoneName 'lab.example' -Name 'www' -TimeToLive (New-TimeSpan -Seconds 300) -IPv4Address '10.0.2.1'
Add-DnsServerResourceRecordAAAA -ZoneName 'lab.example' -Name 'www' -TimeToLive (New-TimeSpan -Seconds 300) -IPv6Address 'fd00:2::1'
Add-DnsServerResourceRecordCName -ZoneName 'lab.example' -Name 'mail' -TimeToLive (New-TimeSpan -Seconds 300) -HostNameAlias 'labsrv.lab.example.'
Set-DnsServerForwarder -IPAddress '192.0.2.1'

# DHCP
Install-WindowsFeature -Name DHCP -IncludeManagementTools | Out-Null
Add-DhcpServerSecurityGroup
Restart-Service -Name DHCPServer
Set-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\ServerManager\Roles\12' -Name ConfigurationState -Value 2
Get-DhcpServerv4Binding | Set-DhcpServerv4Binding -BindingState $false
Add-DhcpServerv4Scope -Name 'eth1' -StartRange '10.0.2.100' -EndRange '10.0.2.199' -SubnetMask '255.255.255.0' -LeaseDuration (New-TimeSpan -Seconds 7200) -State Active
Set-DhcpServerv4OptionValue -ScopeId '10.0.2.0' -Router '10.0.2.1' -DnsServer '10.0.2.1' -DnsDomain 'lab.example' -Force
Add-DhcpServerv4Reservation -ScopeId '10.0.2.0' -IPAddress '10.0.2.50' -ClientId '52-54-00-00-02-50' -Name 'printer'
$adapter = @(Get-NetAdapter | Where-Object MacAddress -eq '52-54-00-00-02-02')
if ($adapter.Count -ne 1) { throw 'vmgen: no single network adapter has the MAC address 52-54-00-00-02-02 (eth1); the DHCP server is not bound to it' }
Set-DhcpServerv4Binding -InterfaceAlias $adapter[0].Name -BindingState $true

# Web-Server
Install-WindowsFeature -Name Web-Server -IncludeManagementTools | Out-Null
Import-Module WebAdministration
if (Test-Path 'IIS:\Sites\Default Web Site') { Remove-Website -Name 'Default Web Site' }
New-Item -ItemType Directory -Force -Path 'C:\inetpub\lab' | Out-Null
New-Website -Name 'lab' -HostHeader 'www.lab.example' -PhysicalPath 'C:\inetpub\lab' -Port 80 | Out-Null
New-WebBinding -Name 'lab' -Protocol http -Port 80 -HostHeader 'lab.example'
$cert = New-SelfSignedCertificate -DnsName 'www.lab.example', 'lab.example' -CertStoreLocation 'Cert:\LocalMachine\My'
New-WebBinding -Name 'lab' -Protocol https -Port 443 -HostHeader 'www.lab.example' -SslFlags 1
(Get-WebBinding -Name 'lab' -Protocol https -HostHeader 'www.lab.example').AddSslCertificate($cert.GetCertHashString(), 'My')
New-WebBinding -Name 'lab' -Protocol https -Port 443 -HostHeader 'lab.example' -SslFlags 1
(Get-WebBinding -Name 'lab' -Protocol https -HostHeader 'lab.example').AddSslCertificate($cert.GetCertHashString(), 'My')

Write-Output 'vmgen: the server roles are configured'
