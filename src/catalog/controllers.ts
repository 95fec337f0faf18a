import { orList } from '../diagnostics.js';

/**
 * Every disk controller a config or the OS table can name, with what vmgen needs to know of it: the
 * bus it sits on (devices on one bus share the names scsi0:1… and the limits), how many controllers
 * and units, the unit a SCSI controller keeps for itself, and the adapter type a vmdk records. The
 * config's enum, the catalog's, the layout's `Controller` type and every message listing
 * controllers derive from this table. It sits in catalog/ so the OS table and the config can import it.
 */
export type ControllerBusName = 'ide' | 'scsi' | 'sata' | 'nvme';

export interface ControllerBus {
  bus: ControllerBusName;
  maxController: number;
  maxUnit: number;
  reserved?: number;
}

interface ControllerRow extends ControllerBus {
  /** A config's short name for a model: the model the layout puts the device on. */
  aliasOf?: string;
  /** ddb.adapterType in a vmdk on this controller (VMware knows ide, buslogic and lsilogic). */
  vmdkAdapter: 'ide' | 'buslogic' | 'lsilogic';
  /** False where the controller holds disks only. */
  cd?: false;
}

const SCSI = { bus: 'scsi', maxController: 3, maxUnit: 15, reserved: 7 } as const;

const TABLE = {
  ide: { bus: 'ide', maxController: 1, maxUnit: 1, vmdkAdapter: 'ide' },
  scsi: { ...SCSI, aliasOf: 'lsilogic', vmdkAdapter: 'lsilogic' },
  lsilogic: { ...SCSI, vmdkAdapter: 'lsilogic' },
  buslogic: { ...SCSI, vmdkAdapter: 'buslogic' },
  lsisas1068: { ...SCSI, vmdkAdapter: 'lsilogic' },
  pvscsi: { ...SCSI, vmdkAdapter: 'lsilogic' },
  sata: { bus: 'sata', maxController: 3, maxUnit: 29, vmdkAdapter: 'lsilogic' },
  nvme: { bus: 'nvme', maxController: 3, maxUnit: 14, vmdkAdapter: 'lsilogic', cd: false },
} as const satisfies Record<string, ControllerRow>;

/** A name a config may give as a disk's or CD drive's `type`. */
export type ControllerName = keyof typeof TABLE;
/** A controller model a device is placed on: every name but the aliases. */
export type Controller = { [K in ControllerName]: (typeof TABLE)[K] extends { aliasOf: string } ? never : K }[ControllerName];

export const CONTROLLERS: Readonly<Record<ControllerName, ControllerRow>> = TABLE;
const ROWS: Readonly<Record<string, ControllerRow>> = TABLE;
const names = Object.keys(CONTROLLERS) as ControllerName[];

/** Every name a config accepts, in the table's order. */
export const CONTROLLER_NAMES = names as [ControllerName, ...ControllerName[]];
/** The models devices are placed on (the OS table's defaultController is one). */
export const CONTROLLER_MODELS = names.filter((n) => ROWS[n]!.aliasOf === undefined) as [Controller, ...Controller[]];

/** The model a config's name stands for: itself, or the model an alias names. */
export function controllerModel(name: ControllerName): Controller {
  return (ROWS[name]!.aliasOf ?? name) as Controller;
}

/** The buses in the table's order. */
export function controllerBuses(): ControllerBusName[] {
  return [...new Set(names.map((n) => ROWS[n]!.bus))];
}

/** The buses a CD drive can be on, in alphabetical order: "ide, sata or scsi". */
export function cdBuses(): ControllerBusName[] {
  return controllerBuses().filter((bus) => names.every((n) => ROWS[n]!.bus !== bus || ROWS[n]!.cd !== false)).sort();
}

/**
 * What a config may write as a controller, by bus: "ide, scsi (lsilogic, buslogic, lsisas1068,
 * pvscsi), sata or nvme" (a bus named by an alias lists the models behind it).
 */
export function controllerChoices(): string {
  return orList(controllerBuses().map((bus) => {
    const onBus = names.filter((n) => ROWS[n]!.bus === bus);
    const alias = onBus.find((n) => ROWS[n]!.aliasOf !== undefined);
    const models = onBus.filter((n) => n !== alias);
    return alias === undefined ? models.join(', ') : `${alias} (${models.join(', ')})`;
  }));
}
