/*
 * Every element vmgen writes into autounattend.xml, with the page of Microsoft's "Unattended
 * Windows Setup Reference" that documents it (learn.microsoft.com, windows-hardware/customize/
 * desktop/unattend/<page>) and the configuration passes that page allows. The renderer refuses an
 * element missing here, and a test checks the rendered files against this table, so a setting
 * can only be used after someone looked it up.
 */

export const UNATTEND_DOC_BASE = 'https://learn.microsoft.com/en-us/windows-hardware/customize/desktop/unattend/';

export type UnattendPass = 'windowsPE' | 'specialize' | 'oobeSystem';

export interface UnattendSetting {
  /** Component, then the element path below it, joined with '/'. */
  path: string;
  passes: readonly UnattendPass[];
  /** The reference page: lower-case component and path joined with '-'. */
  doc: string;
}

const SETTINGS: ReadonlyArray<[string, readonly UnattendPass[]]> = [
  ['Microsoft-Windows-International-Core-WinPE/SetupUILanguage', ['windowsPE']],
  ['Microsoft-Windows-International-Core-WinPE/SetupUILanguage/UILanguage', ['windowsPE']],
  ['Microsoft-Windows-International-Core-WinPE/InputLocale', ['windowsPE']],
  ['Microsoft-Windows-International-Core-WinPE/SystemLocale', ['windowsPE']],
  ['Microsoft-Windows-International-Core-WinPE/UILanguage', ['windowsPE']],
  ['Microsoft-Windows-International-Core-WinPE/UserLocale', ['windowsPE']],
  ['Microsoft-Windows-International-Core/InputLocale', ['specialize', 'oobeSystem']],
  ['Microsoft-Windows-International-Core/SystemLocale', ['specialize', 'oobeSystem']],
  ['Microsoft-Windows-International-Core/UILanguage', ['specialize', 'oobeSystem']],
  ['Microsoft-Windows-International-Core/UserLocale', ['specialize', 'oobeSystem']],
  ['Microsoft-Windows-Setup/DiskConfiguration', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/DiskID', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/WillWipeDisk', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions/CreatePartition', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions/CreatePartition/Order', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions/CreatePartition/Type', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions/CreatePartition/Size', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions/CreatePartition/Extend', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition/Order', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition/PartitionID', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition/Format', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition/Label', ['windowsPE']],
  ['Microsoft-Windows-Setup/DiskConfiguration/Disk/ModifyPartitions/ModifyPartition/Active', ['windowsPE']],
  ['Microsoft-Windows-Setup/ImageInstall', ['windowsPE']],
  ['Microsoft-Windows-Setup/ImageInstall/OSImage', ['windowsPE']],
  ['Microsoft-Windows-Setup/ImageInstall/OSImage/InstallTo', ['windowsPE']],
  ['Microsoft-Windows-Setup/ImageInstall/OSImage/InstallTo/DiskID', ['windowsPE']],
  ['Microsoft-Windows-Setup/ImageInstall/OSImage/InstallTo/PartitionID', ['windowsPE']],
  ['Microsoft-Windows-Setup/RunSynchronous', ['windowsPE']],
  ['Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand', ['windowsPE']],
  ['Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand/Order', ['windowsPE']],
  ['Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand/Path', ['windowsPE']],
  ['Microsoft-Windows-Setup/RunSynchronous/RunSynchronousCommand/Description', ['windowsPE']],
  ['Microsoft-Windows-Setup/UserData', ['windowsPE']],
  ['Microsoft-Windows-Setup/UserData/AcceptEula', ['windowsPE']],
  ['Microsoft-Windows-Shell-Setup/ComputerName', ['specialize']],
  ['Microsoft-Windows-Shell-Setup/OOBE', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/HideEULAPage', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/HideLocalAccountScreen', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/HideOnlineAccountScreens', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/HideWirelessSetupInOOBE', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/NetworkLocation', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/OOBE/ProtectYourPC', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/AdministratorPassword', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/AdministratorPassword/Value', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/AdministratorPassword/PlainText', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount/Name', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount/Group', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount/Password', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount/Password/Value', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/UserAccounts/LocalAccounts/LocalAccount/Password/PlainText', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/Enabled', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/LogonCount', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/Username', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/Password', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/Password/Value', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/AutoLogon/Password/PlainText', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/FirstLogonCommands', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/FirstLogonCommands/SynchronousCommand', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/FirstLogonCommands/SynchronousCommand/Order', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/FirstLogonCommands/SynchronousCommand/CommandLine', ['oobeSystem']],
  ['Microsoft-Windows-Shell-Setup/FirstLogonCommands/SynchronousCommand/Description', ['oobeSystem']],
];

export const UNATTEND_SETTINGS: ReadonlyMap<string, UnattendSetting> = new Map(
  SETTINGS.map(([path, passes]) => [path, { path, passes, doc: `${UNATTEND_DOC_BASE}${path.toLowerCase().replaceAll('/', '-')}` }]),
);
