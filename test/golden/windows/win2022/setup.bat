@echo off
rem vmgen: installs the applications from the kits beside this script (seed Listing 4.9),
rem then deletes the kits and itself.
setlocal DisableDelayedExpansion
set "KITS=%~dp0kits"

msiexec /i "%KITS%\python-setup.msi" /qn /norestart INSTALLDIR="C:\Tools\Python" TARGETDIR="C:\Tools\Python" ALLUSERS=1
if errorlevel 1 echo vmgen: python (python-setup.msi) ended with exit code %errorlevel%
"%KITS%\gvim-setup.exe" /S /D=C:\Tools\Vim
if errorlevel 1 echo vmgen: vim (gvim-setup.exe) ended with exit code %errorlevel%
"%KITS%\Git-setup.exe" /VERYSILENT /NORESTART /NOICONS
if errorlevel 1 echo vmgen: git (Git-setup.exe) ended with exit code %errorlevel%

del /q "%KITS%\python-setup.msi"
del /q "%KITS%\gvim-setup.exe"
del /q "%KITS%\Git-setup.exe"
rmdir "%KITS%"
(goto) 2>nul & del "%~f0"
