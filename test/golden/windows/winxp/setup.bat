@echo off
rem vmgen: installs the applications from the kits beside this script (seed Listing 4.9),
rem then deletes the kits and itself.
setlocal DisableDelayedExpansion
set "KITS=%~dp0kits"

msiexec /i "%KITS%\python-setup.msi" /qn /norestart
if errorlevel 1 echo vmgen: python (python-setup.msi) ended with exit code %errorlevel%
set "SEVENZIP="
if exist "%ProgramFiles%\7-Zip\7z.exe" set "SEVENZIP=%ProgramFiles%\7-Zip\7z.exe"
if not defined SEVENZIP if defined ProgramFiles(x86) if exist "%ProgramFiles(x86)%\7-Zip\7z.exe" set "SEVENZIP=%ProgramFiles(x86)%\7-Zip\7z.exe"
if not defined SEVENZIP for %%i in (7z.exe) do @if not "%%~$PATH:i"=="" set "SEVENZIP=%%~$PATH:i"
if not defined SEVENZIP (echo vmgen: 7z.exe is neither in the 7-Zip folder nor on PATH; archive kits need 7-Zip & exit /b 1)
"%SEVENZIP%" x -y -o"%ProgramFiles%\emacs" "%KITS%\emacs.zip"
if errorlevel 1 echo vmgen: emacs (emacs.zip) ended with exit code %errorlevel%
"%KITS%\FileZilla_Server-setup.exe" /S
if errorlevel 1 echo vmgen: ftp-server (FileZilla_Server-setup.exe) ended with exit code %errorlevel%
msiexec /i "%KITS%\TortoiseSVN-setup.msi" /qn /norestart ADDLOCAL=ALL
if errorlevel 1 echo vmgen: svn (TortoiseSVN-setup.msi) ended with exit code %errorlevel%
"%KITS%\Git-setup.exe" /VERYSILENT /NORESTART
if errorlevel 1 echo vmgen: git (Git-setup.exe) ended with exit code %errorlevel%
"%KITS%\ThunderbirdSetup.exe" -ms
if errorlevel 1 echo vmgen: mozilla-thunderbird (ThunderbirdSetup.exe) ended with exit code %errorlevel%

del /q "%KITS%\python-setup.msi"
del /q "%KITS%\emacs.zip"
del /q "%KITS%\FileZilla_Server-setup.exe"
del /q "%KITS%\TortoiseSVN-setup.msi"
del /q "%KITS%\Git-setup.exe"
del /q "%KITS%\ThunderbirdSetup.exe"
rmdir "%KITS%"
(goto) 2>nul & del "%~f0"
