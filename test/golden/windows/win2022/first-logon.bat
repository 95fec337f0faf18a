@echo off
rem vmgen: the first-boot scripts of [scripts], run once at the first logon after config.bat.
setlocal DisableDelayedExpansion
cd /d "%~dp0"
echo vmgen: script stamp >> "%~dp0first-logon.log"
call "%~dp0first-logon\1.bat" >> "%~dp0first-logon.log" 2>&1
if errorlevel 1 (echo vmgen: script stamp failed with exit code %errorlevel% >> "%~dp0first-logon.log" & exit /b 1)
echo vmgen: script announce >> "%~dp0first-logon.log"
powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "%~dp0first-logon\2.ps1" >> "%~dp0first-logon.log" 2>&1
if errorlevel 1 (echo vmgen: script announce failed with exit code %errorlevel% >> "%~dp0first-logon.log" & exit /b 1)
echo %DATE% %TIME% > "%~dp0first-logon.done"
rmdir /s /q "%~dp0first-logon"
(goto) 2>nul & del "%~f0"
