import type { Diagnostic } from '../diagnostics.js';
import type { VmConfig } from '../config/model.js';
import type { ConfigSources } from '../config/sources.js';

/*
 * A lab (issue 16): a network of machines from one lab file. These are the types the parts of
 * src/lab share: the loader (lab file → Lab), the builder (Lab → one archive per target, with the
 * topology in the target's own terms), the runner (up / verify / down of a built lab) and the
 * service (one queue job per machine, assembled into the lab's archive).
 */

/** One network of the lab: a bridge when the lab is up, a LAN segment / internal network / libvirt network in an archive. */
export interface LabNetwork {
  name: string;
  /** CIDR, network address and prefix: 10.10.0.0/24. */
  subnet: string;
  prefix: number;
  /** Handed to the static machines on this network that name none themselves. */
  gateway?: string;
  dns: string[];
  /** The network's DNS domain, when the lab file gives one. */
  domain?: string;
}

/** One NIC of a lab machine: which network it is wired into and how it gets its address. */
export interface LabNic {
  /** The NIC's name in the machine config: eth0. */
  nic: string;
  network: string;
  /** An IPv4 address in the network's subnet, or 'dhcp'. */
  address: string | 'dhcp';
  /** Unique in the lab; derived from the lab's and the machine's names unless the config gives one. */
  mac: string;
}

/** One machine as it will be built: a copy of a [machines] entry with its set values and NICs applied. */
export interface LabMachine {
  /** web1, pc01; unique in the lab, a valid host and container name. */
  name: string;
  /** The [machines] entry it comes from: pc. */
  group: string;
  /** 1-based copy number when the entry has a count. */
  index?: number;
  /** The machine config's path relative to the lab file's directory: pc.conf. */
  configPath: string;
  /** The machine config as it will be built (INI text: the entry's config with set values and NICs applied). */
  text: string;
  config: VmConfig;
  /** The files beside the machine's own config ([files] and [scripts] sources). */
  sources: ConfigSources;
  nics: LabNic[];
}

export interface Lab {
  name: string;
  description?: string;
  networks: LabNetwork[];
  /** In the file's order; copies of an entry in index order. */
  machines: LabMachine[];
}

/** A diagnostic and the file it is about (the lab file, a machine config, a roster). */
export interface LabDiagnostic extends Diagnostic {
  file: string;
}

export interface LabLoadResult {
  /** Present when neither the lab nor any machine has an error. */
  lab?: Lab;
  diagnostics: LabDiagnostic[];
}
