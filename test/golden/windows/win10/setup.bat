@echo off
rem vmgen: installs the applications from the kits beside this script (seed Listing 4.9),
rem then deletes the kits and itself.
setlocal DisableDelayedExpansion
set "KITS=%~dp0kits"
where /q 7z.exe || (echo vmgen: 7z.exe is not on PATH; archive kits need 7-Zip & exit /b 1)

msiexec /i "%KITS%\python-setup.msi" /qn /norestart
if errorlevel 1 echo vmgen: python (python-setup.msi) ended with exit code %errorlevel%
"%KITS%\gvim-setup.exe" /S
if errorlevel 1 echo vmgen: vim (gvim-setup.exe) ended with exit code %errorlevel%
msiexec /i "%KITS%\node-setup.msi" /qn /norestart
if errorlevel 1 echo vmgen: nodejs (node-setup.msi) ended with exit code %errorlevel%
7z.exe x -y -o"%ProgramFiles%\nginx" "%KITS%\nginx.zip"
if errorlevel 1 echo vmgen: nginx (nginx.zip) ended with exit code %errorlevel%

del /q "%KITS%\python-setup.msi"
del /q "%KITS%\gvim-setup.exe"
del /q "%KITS%\node-setup.msi"
del /q "%KITS%\nginx.zip"
rmdir "%KITS%"
(goto) 2>nul & del "%~f0"
