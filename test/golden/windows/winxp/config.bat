@echo off
rem vmgen: configures this machine once (seed Listing 4.7).
rem This file holds account passwords in clear text: it deletes itself when it has run.
setlocal DisableDelayedExpansion

wmic computersystem where name="%COMPUTERNAME%" call rename "xp-gen"
net user Administrator "pass2" /Y

net localgroup "julius" /add
net localgroup "vmg" /add
net user "caesar" "alesia" /add /homedir:"C:\Users\caesar" /Y || net user "caesar" "alesia" /Y
net localgroup "julius" "caesar" /add
net user "vv" "pass" /add /homedir:"C:\Users2\vv" /Y || net user "vv" "pass" /Y
net localgroup "vmg" "vv" /add

rem eth0: the adapter with MAC address 00:50:56:00:BE:EF, whatever Windows named it.
set "VMGEN_NIC="
set "VMGEN_NIC_DUP="
for /f "tokens=1,* delims==" %%a in ('wmic nic where "MACAddress='00:50:56:00:BE:EF' and NetConnectionID is not null" get NetConnectionID /value 2^>nul ^<nul') do if /i "%%a"=="NetConnectionID" for /f "delims=" %%c in ("%%b") do if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set "VMGEN_NIC=%%c"
if defined VMGEN_NIC_DUP set "VMGEN_NIC="
if not defined VMGEN_NIC echo vmgen: eth0 is not configured: no single network adapter has the MAC address 00:50:56:00:BE:EF
setlocal EnableDelayedExpansion
if defined VMGEN_NIC netsh interface ip set address name="!VMGEN_NIC!" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1
if defined VMGEN_NIC netsh interface ip set dns name="!VMGEN_NIC!" source=static addr=192.168.1.254 register=primary
endlocal

netsh firewall add portopening protocol=TCP port=22 name="ssh"
netsh firewall add portopening protocol=ALL port=65000 name="myport"

(goto) 2>nul & del "%~f0"
