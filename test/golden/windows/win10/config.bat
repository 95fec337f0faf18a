@echo off
rem vmgen: configures this machine once (seed Listing 4.7).
rem This file holds account passwords in clear text: it deletes itself when it has run.
setlocal DisableDelayedExpansion

powershell -NoProfile -NonInteractive -Command "Rename-Computer -NewName 'WIN10-DEV' -Force"
net user Administrator "R00t&100%%^!" /Y
net user Administrator /active:yes

net localgroup "Dev Team" /add
net user "ada" "l0ve & <code>" /add /Y || net user "ada" "l0ve & <code>" /Y
net localgroup "Dev Team" "ada" /add
net localgroup "Administrators" "ada" /add

netsh interface ipv4 set address name="Ethernet" source=static address=10.0.0.5 mask=255.255.255.0 gateway=10.0.0.1 gwmetric=1
netsh interface ipv4 set dnsservers name="Ethernet" source=static address=10.0.0.2 register=primary
netsh interface ipv4 add dnsservers name="Ethernet" address=10.0.0.3 index=2
netsh interface ipv4 set address name="Ethernet 2" source=dhcp
netsh interface ipv4 set dnsservers name="Ethernet 2" source=dhcp

netsh advfirewall firewall add rule name="Remote Desktop" dir=in action=allow protocol=TCP localport=3389
netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=TCP localport=27015-27030
netsh advfirewall firewall add rule name="vmgen-all-27015-27030" dir=in action=allow protocol=UDP localport=27015-27030
netsh advfirewall firewall add rule name="ping" dir=in action=allow protocol=icmpv4:8,any

(goto) 2>nul & del "%~f0"
