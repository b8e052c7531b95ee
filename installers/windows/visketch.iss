; Inno Setup 6 script for ViSketch. Built by installers\windows\build.ps1, which passes
; /DAppVersion=<version from pyproject.toml> and /DRoot=<repository root>.
#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (build.ps1 reads it from pyproject.toml)
#endif
#ifndef Root
  #define Root "..\.."
#endif

[Setup]
AppId={{6F1C2B7E-4A5D-4E83-9C1B-0D5A7E3F2B91}
AppName=ViSketch
AppVersion={#AppVersion}
AppVerName=ViSketch {#AppVersion}
AppPublisher=ViSketch
DefaultDirName={autopf}\ViSketch
DefaultGroupName=ViSketch
DisableProgramGroupPage=yes
; per-user install unless the user picks "all users": no administrator needed
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\installers\dist
OutputBaseFilename=ViSketch-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\installers\build\visketch\visketch.ico
UninstallDisplayIcon={app}\ViSketch.exe
LicenseFile={#Root}\installers\NOTICE.txt
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "assoc"; Description: "Open .visketch drawings with ViSketch"; GroupDescription: "File types:"

[Files]
Source: "{#Root}\installers\dist\ViSketch\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\ViSketch"; Filename: "{app}\ViSketch.exe"
Name: "{autodesktop}\ViSketch"; Filename: "{app}\ViSketch.exe"; Tasks: desktopicon

[Registry]
Root: HKA; Subkey: "Software\Classes\.visketch\OpenWithProgids"; ValueType: string; ValueName: "ViSketch.Drawing"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\ViSketch.Drawing"; ValueType: string; ValueName: ""; ValueData: "ViSketch drawing"; Flags: uninsdeletekey; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\ViSketch.Drawing\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\ViSketch.exe,0"; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\ViSketch.Drawing\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\ViSketch.exe"" ""%1"""; Tasks: assoc

[Run]
Filename: "{app}\ViSketch.exe"; Description: "{cm:LaunchProgram,ViSketch}"; Flags: nowait postinstall skipifsilent

; Settings and autosaves live in the user's folders (%LOCALAPPDATA%\visketch\visketch), not in {app}:
; uninstalling leaves them, as users expect of their own files.
