/** ethernet0 … ethernet9: the most NICs ESXi and Workstation give a VM. */
export const MAX_NICS = 10;
