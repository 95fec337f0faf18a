@echo off
rem vmgen: configures this machine once (seed Listing 4.7).
rem This file holds account passwords in clear text: it deletes itself when it has run.
setlocal DisableDelayedExpansion

powershell -NoProfile -NonInteractive -Command "Rename-Computer -NewName 'LABSRV' -Force"
net user Administrator "Lab-Adm1n!" /Y
net user Administrator /active:yes

net user "webadmin" "W3b&admin" /add /Y || net user "webadmin" "W3b&admin" /Y

netsh interface ipv4 set address name="Ethernet" source=static address=192.0.2.10 mask=255.255.255.0 gateway=192.0.2.1 gwmetric=1
rem eth1: the adapter with MAC address 52:54:00:00:02:02, whatever Windows named it.
set "VMGEN_NIC="
set "VMGEN_NIC_DUP="
for /f "delims=" %%a in ('powershell -NoProfile -NonInteractive -Command "Get-NetAdapter | Where-Object MacAddress -eq '52-54-00-00-02-02' | ForEach-Object Name" 2^>nul ^<nul') do if defined VMGEN_NIC (set "VMGEN_NIC_DUP=1") else set "VMGEN_NIC=%%a"
if defined VMGEN_NIC_DUP set "VMGEN_NIC="
if not defined VMGEN_NIC echo vmgen: eth1 is not configured: no single network adapter has the MAC address 52:54:00:00:02:02
setlocal EnableDelayedExpansion
if defined VMGEN_NIC netsh interface ipv4 set address name="!VMGEN_NIC!" source=static address=10.0.2.1 mask=255.255.255.0
if defined VMGEN_NIC netsh interface ipv4 set dnsservers name="!VMGEN_NIC!" source=static address=10.0.2.1 register=primary
endlocal

netsh advfirewall firewall add rule name="vmgen-all-53" dir=in action=allow protocol=TCP localport=53
netsh advfirewall firewall add rule name="vmgen-all-53" dir=in action=allow protocol=UDP localport=53
netsh advfirewall firewall add rule name="vmgen-udp-67" dir=in action=allow protocol=UDP localport=67
netsh advfirewall firewall add rule name="vmgen-tcp-80" dir=in action=allow protocol=TCP localport=80
netsh advfirewall firewall add rule name="vmgen-tcp-443" dir=in action=allow protocol=TCP localport=443

rem [files] site
for %%p in ("C:\inetpub\lab") do if not exist "%%~dpp" mkdir "%%~dpp"
if exist "%~dp0files\1\" (xcopy "%~dp0files\1" "C:\inetpub\lab" /e /i /h /k /y /q >nul) else (copy /y "%~dp0files\1" "C:\inetpub\lab" >nul)
if errorlevel 1 echo vmgen: [files] site was not copied
icacls "C:\inetpub\lab" /setowner "webadmin" /t /c /q >nul
icacls "C:\inetpub\lab" /grant "webadmin:F" /t /c /q >nul
rem [files] motd
for %%p in ("C:\lab\readme.txt") do if not exist "%%~dpp" mkdir "%%~dpp"
if exist "%~dp0files\2\" (xcopy "%~dp0files\2" "C:\lab\readme.txt" /e /i /h /k /y /q >nul) else (copy /y "%~dp0files\2" "C:\lab\readme.txt" >nul)
if errorlevel 1 echo vmgen: [files] motd was not copied
rmdir /s /q "%~dp0files"
powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0vmgen-services.ps1"
if errorlevel 1 echo vmgen: vmgen-services.ps1 ended with exit code %errorlevel%
reg add "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce" /v vmgen-first-logon /t REG_SZ /d "cmd /c C:\vmgen\first-logon.bat" /f >nul

(goto) 2>nul & del "%~f0"
