/*
 * The functions of src/lab the service calls, in one place: the validation threads read a lab with
 * loadLab, and the build process builds a member or assembles the lab (runner/lab-job.ts).
 */

/** What the lab file's own diagnostics call it; a machine's carry its config's path beside it. */
export const LAB_FILE = 'lab.conf';

export { loadLab } from '../../lab/load.js';
export { buildLabMember } from '../../lab/build-member.js';
export { assembleLab } from '../../lab/assemble.js';
