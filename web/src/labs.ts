import type { Api } from './api.js';
import { ApiError } from './api.js';
import { followDownload, h } from './dom.js';
import { labDiagram, type MachineState, type SvgNode } from './lab-diagram.js';
import type { LabView } from '../../src/service/web/shared-types.js';

/*
 * Labs on the page: pick a lab file and the files it names (machine configs, roster, their
 * sources), choose a target, submit; then the lab as a diagram drawn from the file, each machine
 * in its job's state, polled until the lab ends, and its archive to download.
 */

export interface LabsElements {
  labFile: HTMLInputElement;
  files: HTMLInputElement;
  target: HTMLSelectElement;
  submit: HTMLButtonElement;
  status: HTMLElement;
  problems: HTMLUListElement;
  view: HTMLElement;
  state: HTMLElement;
  diagram: HTMLElement;
  download: HTMLButtonElement;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const POLL_MS = 1000;

/** The diagram's tree as elements; strings become text nodes. */
function toElement(node: SvgNode): SVGElement {
  const el = document.createElementNS(SVG_NS, node.tag);
  for (const [k, v] of Object.entries(node.attrs)) el.setAttribute(k, String(v));
  for (const c of node.children) el.append(typeof c === 'string' ? document.createTextNode(c) : toElement(c));
  return el;
}

async function base64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A picked file's path beside the lab file: a folder pick keeps its folders below the first. */
function relPath(f: File): string {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  return rel ? rel.split('/').slice(1).join('/') : f.name;
}

export class LabsPanel {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly api: Api, private readonly el: LabsElements, targets: ReadonlyArray<{ id: string; label: string }>) {
    el.target.replaceChildren(...targets.map((t) => h('option', { value: t.id }, t.label)));
    el.submit.addEventListener('click', () => void this.submit());
  }

  private async submit(): Promise<void> {
    const lab = this.el.labFile.files?.[0];
    this.el.problems.replaceChildren();
    if (!lab) {
      this.el.status.textContent = 'Pick a lab file first.';
      return;
    }
    this.el.status.textContent = 'Checking the lab…';
    const files: Record<string, string> = {};
    for (const f of Array.from(this.el.files.files ?? [])) files[relPath(f)] = await base64(f);
    try {
      const view = await this.api.json<LabView>('POST', '/api/labs', { lab: await lab.text(), target: this.el.target.value, files });
      this.el.status.textContent = `Lab ${view.name} submitted: ${view.machines.length} machines, each its own build.`;
      this.follow(view);
    } catch (err) {
      if (err instanceof ApiError && err.diagnostics) {
        this.el.status.textContent = err.message;
        this.el.problems.replaceChildren(...err.diagnostics.map((d) => {
          const file = (d as typeof d & { file?: string }).file ?? 'lab.conf';
          return h('li', { class: d.severity }, `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
        }));
        return;
      }
      this.el.status.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** Shows the lab and polls it until it ends. */
  follow(view: LabView): void {
    clearTimeout(this.timer);
    this.show(view);
    if (view.final) return;
    this.timer = setTimeout(() => {
      this.api.json<LabView>('GET', `/api/labs/${encodeURIComponent(view.id)}`)
        .then((v) => this.follow(v), (err: Error) => (this.el.state.textContent = `cannot follow the lab: ${err.message}`));
    }, POLL_MS);
  }

  private show(view: LabView): void {
    this.el.view.hidden = false;
    this.el.state.textContent = view.error ? `${view.state}: ${view.error}` : view.state;
    this.el.state.dataset.state = view.state;
    const states: Record<string, MachineState> = Object.fromEntries(view.machines.map((m) => [m.name, m.state]));
    this.el.diagram.replaceChildren(toElement(labDiagram(view.topology, states)));
    const assembly = view.assembly;
    this.el.download.hidden = !(view.archive && assembly);
    this.el.download.onclick = assembly && view.archive ? () => {
      const name = view.archive!.name;
      void this.api.downloadLink(assembly.build).then((link) => followDownload(link.url, name));
    } : null;
  }
}
