@echo off
rem vmgen: configures this machine once (seed Listing 4.7).
rem This file holds account passwords in clear text: it deletes itself when it has run.
setlocal DisableDelayedExpansion

wmic computersystem where name="%COMPUTERNAME%" call rename "xp-gen"
net user Administrator "pass2"

net localgroup "julius" /add
net localgroup "vmg" /add
net user "caesar" "alesia" /add /homedir:"C:\Users\caesar" || net user "caesar" "alesia"
net localgroup "julius" "caesar" /add
net user "vv" "pass" /add /homedir:"C:\Users2\vv" || net user "vv" "pass"
net localgroup "vmg" "vv" /add

netsh interface ip set address name="Local Area Connection" source=static addr=192.168.1.2 mask=255.255.255.0 gateway=192.168.1.1 gwmetric=1
netsh interface ip set dns name="Local Area Connection" source=static addr=192.168.1.254 register=primary

netsh firewall add portopening protocol=TCP port=22 name="ssh"
netsh firewall add portopening protocol=ALL port=65000 name="myport"

(goto) 2>nul & del "%~f0"
