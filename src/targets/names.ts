/**
 * The names a target may give the machine: LXC container names, OpenVZ template names and VM file
 * names (NAME.vmx, NAME-hdd0.vmdk, quoted in the .vmdk descriptor and the OVF). A '/' would make a
 * path, a quote or blank has no spelling in those files, and a leading '-' reads as an option.
 */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** How a refused name is put right, in the words of SAFE_NAME. */
export const SAFE_NAME_HINT = "start it with a letter or digit, and use letters, digits, '.', '_' and '-' only";
