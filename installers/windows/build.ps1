# Build the Windows app and its installer:
#   installers\dist\ViSketch\ViSketch.exe                 the one-folder app
#   installers\dist\ViSketch-VERSION-windows-x64-setup.exe  the Inno Setup installer
# Usage: powershell -File installers\windows\build.ps1 [-Python python] [-NoInstaller]
# Needs a Python with ViSketch and PyInstaller installed, and Inno Setup 6 (iscc.exe) for
# the installer. Not run in this repository's CI (Linux only); the GitHub workflow runs it.
param([string]$Python = "python", [switch]$NoInstaller)
$ErrorActionPreference = "Stop"
$installers = Split-Path -Parent $PSScriptRoot
$root = Split-Path -Parent $installers
$version = (& $Python "$installers\version.py").Trim()

& $Python -m PyInstaller --noconfirm --log-level WARN `
  --distpath "$installers\dist" --workpath "$installers\build" "$installers\visketch.spec"
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
Copy-Item "$installers\NOTICE.txt" "$installers\dist\ViSketch\NOTICE.txt"
& "$installers\dist\ViSketch\ViSketch.exe" --check-bundle | Out-Host
if ($LASTEXITCODE -ne 0) { throw "the built bundle failed its check" }
if ($NoInstaller) { exit 0 }

$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $iscc)) { throw "Inno Setup 6 not found (choco install innosetup)" }
& $iscc "/DAppVersion=$version" "/DRoot=$root" "$PSScriptRoot\visketch.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
