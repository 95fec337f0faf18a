/** VirtualBox's PIIX3 chipset has eight network adapters. */
export const MAX_NICS = 8;
