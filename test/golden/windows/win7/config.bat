@echo off
rem vmgen: configures this machine once (seed Listing 4.7).
rem This file holds account passwords in clear text: it deletes itself when it has run.
setlocal DisableDelayedExpansion

wmic computersystem where name="%COMPUTERNAME%" call rename "WIN10-DEV"
net user Administrator "R00t&100%%^!" /Y
net user Administrator /active:yes

net localgroup "Dev Team" /add
net user "ada" "l0ve & <code>" /add /Y || net user "ada" "l0ve & <code>" /Y
net localgroup "Dev Team" "ada" /add
net localgroup "Administrators" "ada" /add

rem eth0: the adapter with MAC address 00:50:56:00:10:01, whatever Windows named it.
set "VMGEN_NIC="
set "VMGEN_NIC_DUP="
for /f "tokens=1,* delims==" %%a in ('wmic nic where "MACAddress='00:50:56:00:10:01' and NetConnectionID is not null" get NetConnectionID /value 2^>nul ^<nul') do if /i "%%a"=="NetConnectionID" for /f "delims=" %%c in ("%%b") do if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set "VMGEN_NIC=%%c"
if defined VMGEN_NIC_DUP set "VMGEN_NIC="
if not defined VMGEN_NIC echo vmgen: eth0 is not configured: no single network adapter has the MAC address 00:50:56:00:10:01
setlocal EnableDelayedExpansion
if defined VMGEN_NIC netsh interface ipv4 set address name="!VMGEN_NIC!" source=static address=10.0.0.5 mask=255.255.255.0 gateway=10.0.0.1 gwmetric=1
if defined VMGEN_NIC netsh interface ipv4 set dnsservers name="!VMGEN_NIC!" source=static address=10.0.0.2 register=primary
if defined VMGEN_NIC netsh interface ipv4 add dnsservers name="!VMGEN_NIC!" address=10.0.0.3 index=2
endlocal
netsh interface ipv4 set address name="Local Area Connection 2" source=dhcp
netsh interface ipv4 set dnsservers name="Local Area Connection 2" source=dhcp

netsh advfirewall firewall add rule name="Remote Desktop" dir=in action=allow protocol=TCP localport=3389
netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=TCP localport=27015-27030
netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=UDP localport=27015-27030
netsh advfirewall firewall add rule name="ping" dir=in action=allow protocol=icmpv4:8,any

(goto) 2>nul & del "%~f0"
