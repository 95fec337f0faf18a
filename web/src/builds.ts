import { ApiError, type Api } from './api.js';
import { followDownload, h } from './dom.js';
import type { RunStep } from '../../src/service/web/shared-types.js';

export interface BuildInfo {
  id: string;
  state: string;
  /** Whether the build has ended (the server's table of states decides). */
  final?: boolean;
  target: string;
  format?: string;
  name?: string;
  step?: string;
  /** The build plan's step names in order (servers since the plan): steps are numbered in it. */
  steps?: string[];
  progress?: number;
  created?: string;
  started?: string;
  finished?: string;
  error?: string;
  errorCode?: string;
  worker?: string;
  artifact?: { name: string; bytes: number; sha256: string };
  /** Succeeded builds: the commands that start the archive, as the server made them for its target and format. */
  run?: RunStep[];
  /** The config text it was built from (GET /api/builds/:id). */
  config?: string;
}

/** What the page does with a past build's config. */
export interface BuildActions {
  /** Makes the config the draft, for the target (a new draft; the build stays as it was). */
  clone(config: string, target: string): void;
  /** Submits the config again for the target; resolves with the new build's id. */
  rebuild(config: string, target: string): Promise<string>;
}

/** The service's table of states, held to it by its type (a declaration shared with the service). */
/** The page comes with its server, which says whether a build has ended: the page keeps no list of states. */
const isFinal = (b: BuildInfo): boolean => b.final === true;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The commands as a shell takes them when pasted: each after a comment that says what it does. */
export function runText(run: readonly RunStep[]): string {
  return run.map((r) => `# ${r.what}\n${r.command}\n`).join('');
}

const when = (iso: string | undefined): string => (iso ? new Date(iso).toLocaleString() : '');

interface Elements {
  view: HTMLElement;
  title: HTMLElement;
  state: HTMLElement;
  progress: HTMLProgressElement;
  percent: HTMLElement;
  steps: HTMLOListElement;
  log: HTMLElement;
  error: HTMLElement;
  download: HTMLButtonElement;
  /** The archive's name, size and SHA-256, shown once it is built. */
  artifact: { box: HTMLElement; name: HTMLElement; size: HTMLElement; sha256: HTMLElement };
  /** "Run it": the commands that start the archive, and a button that copies them. */
  run: { box: HTMLElement; code: HTMLElement; copy: HTMLButtonElement; status: HTMLElement };
  cancel: HTMLButtonElement;
  clone: HTMLButtonElement;
  rebuild: HTMLButtonElement;
  remove: HTMLButtonElement;
  actionStatus: HTMLElement;
  configBox: HTMLElement;
  config: HTMLElement;
  list: HTMLTableSectionElement;
  listStatus: HTMLElement;
}

/** One build followed live (steps, progress bar, log), and the list of the user's builds. */
export class BuildsPanel {
  private current: BuildInfo | undefined;
  private steps: string[] = [];
  private follow: AbortController | undefined;

  constructor(
    private readonly api: Api,
    private readonly el: Elements,
    private readonly actions: BuildActions,
  ) {
    el.download.addEventListener('click', () => this.current && void this.download(this.current));
    el.cancel.addEventListener('click', () => this.current && void this.cancel(this.current.id));
    el.clone.addEventListener('click', () => {
      const b = this.current;
      if (b?.config === undefined) return;
      this.actions.clone(b.config, b.target);
      el.actionStatus.textContent = `The config of build ${b.id} is now your draft.`;
    });
    el.rebuild.addEventListener('click', () => {
      const b = this.current;
      if (b?.config === undefined) return;
      el.actionStatus.textContent = 'Submitting…';
      this.actions.rebuild(b.config, b.target).then((id) => {
        el.actionStatus.textContent = `Build ${id} submitted.`;
        void this.refreshList();
        void this.open(id);
      }, (err: unknown) => {
        el.actionStatus.textContent = `Not submitted: ${(err as Error).message}`;
      });
    });
    el.remove.addEventListener('click', () => this.current && void this.remove(this.current));
    el.run.copy.addEventListener('click', () => void this.copyRun());
  }

  stop(): void {
    this.follow?.abort();
  }

  async refreshList(): Promise<void> {
    let builds: BuildInfo[];
    try {
      const body = await this.api.json<BuildInfo[] | { builds: BuildInfo[] }>('GET', '/api/builds');
      builds = Array.isArray(body) ? body : body.builds;
    } catch (err) {
      this.el.listStatus.textContent = `Cannot list builds: ${(err as Error).message}`;
      return;
    }
    this.el.listStatus.textContent = builds.length === 0 ? 'No builds yet.' : '';
    builds.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
    this.el.list.replaceChildren(...builds.map((b) => {
      const open = h('button', { type: 'button', class: 'link', 'aria-label': `Show build ${b.id}` }, b.id);
      open.addEventListener('click', () => void this.open(b.id));
      const dl = b.state === 'succeeded' && b.artifact
        ? h('button', { type: 'button', class: 'link', 'aria-label': `Download ${b.artifact.name}` }, `${b.artifact.name} (${formatBytes(b.artifact.bytes)})`)
        : null;
      dl?.addEventListener('click', () => void this.download(b));
      return h('tr', { 'data-build': b.id, 'data-state': b.state },
        h('td', null, open),
        h('td', null, b.name ?? ''),
        h('td', null, b.target),
        h('td', null, h('span', { class: `state state-${b.state}` }, b.state)),
        h('td', null, when(b.created)),
        h('td', null, dl ?? ''));
    }));
  }

  /** Shows a build and follows it until it ends. */
  async open(id: string): Promise<void> {
    if (!ID.test(id)) return;
    this.follow?.abort();
    this.steps = [];
    this.el.log.textContent = '';
    this.el.view.hidden = false;
    this.el.actionStatus.textContent = '';
    const build = await this.api.json<BuildInfo>('GET', `/api/builds/${id}`);
    // Reopened after it ended: every step it went through, as far as the plan says.
    const planned = build.steps ?? [];
    if (isFinal(build) && planned.length > 0) {
      const last = build.step ? planned.indexOf(build.step) : -1;
      this.steps = build.state === 'succeeded' ? [...planned] : planned.slice(0, last + 1);
    }
    this.show(build);
    this.el.view.scrollIntoView({ block: 'start' });
    this.el.title.focus();
    if (isFinal(build)) {
      this.el.log.textContent = await this.api.text(`/api/builds/${id}/log`).catch(() => '');
      return;
    }
    await this.followEvents(id);
  }

  private async followEvents(id: string): Promise<void> {
    const ctl = new AbortController();
    this.follow = ctl;
    let lastId: string | undefined;
    // The stream can drop (a proxy, a restart): pick it up again after the last log line seen.
    for (let attempt = 0; attempt < 20 && !ctl.signal.aborted; attempt++) {
      try {
        for await (const ev of this.api.events(`/api/builds/${id}/events`, ctl.signal, lastId)) {
          if (ev.event === 'update') this.show(JSON.parse(ev.data) as BuildInfo);
          else if (ev.event === 'log') {
            this.appendLog(ev.data);
            if (ev.id !== undefined) lastId = ev.id;
          }
        }
      } catch (err) {
        if (ctl.signal.aborted || (err instanceof ApiError && err.status < 500)) break;
      }
      if (this.current && isFinal(this.current)) break;
      await new Promise((r) => setTimeout(r, 1000));
      const again = await this.api.json<BuildInfo>('GET', `/api/builds/${id}`).catch(() => undefined);
      if (again) this.show(again);
      if (again && isFinal(again)) break;
    }
    if (this.follow === ctl) this.follow = undefined;
    await this.refreshList();
  }

  private appendLog(data: string): void {
    const log = this.el.log;
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(`${data}\n`);
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  private show(b: BuildInfo): void {
    // Events carry the build without its config: keep the one GET /api/builds/:id gave.
    this.current = { ...b, config: b.config ?? (this.current?.id === b.id ? this.current.config : undefined) };
    const hasConfig = this.current.config !== undefined;
    this.el.configBox.hidden = !hasConfig;
    this.el.config.textContent = this.current.config ?? '';
    this.el.clone.hidden = !hasConfig;
    this.el.rebuild.hidden = !hasConfig || !isFinal(b);
    this.el.remove.hidden = !isFinal(b);
    const el = this.el;
    el.view.dataset.build = b.id;
    el.view.dataset.state = b.state;
    el.title.textContent = `Build ${b.id}${b.name ? `: ${b.name}` : ''} for ${b.target}`;
    el.state.textContent = b.state;
    el.state.className = `state state-${b.state}`;
    const pct = b.state === 'succeeded' ? 100 : Math.round(Math.min(1, Math.max(0, b.progress ?? 0)) * 100);
    el.progress.value = pct;
    el.progress.setAttribute('aria-valuetext', `${pct}%${b.step ? `, ${b.step}` : ''}`);
    el.percent.textContent = `${pct}%`;
    const planned = b.steps ?? [];
    // A build that succeeded went through its plan: that is its list, whatever its last event named.
    if (b.state === 'succeeded' && planned.length > 0) this.steps = [...planned];
    else if (b.step && !this.steps.includes(b.step)) this.steps.push(b.step);
    el.steps.replaceChildren(...this.steps.map((s, i) => {
      const last = i === this.steps.length - 1;
      const status = !last || b.state === 'succeeded' ? 'done' : b.state === 'running' ? 'running' : b.state === 'failed' ? 'failed' : b.state;
      const n = planned.indexOf(s);
      const label = n === -1 ? s : `${n + 1}/${planned.length} ${s}`;
      return h('li', { class: `step-${status}` }, h('span', { class: 'step-mark', 'aria-hidden': 'true' }, { done: '✓', running: '…', failed: '✗' }[status] ?? '•'), ` ${label}`,
        h('span', { class: 'visually-hidden' }, ` (${status})`));
    }));
    el.error.textContent = b.error ? `${b.errorCode ? `${b.errorCode}: ` : ''}${b.error}` : '';
    el.download.hidden = !(b.state === 'succeeded' && b.artifact);
    // What to check the downloaded file against (sha256sum prints the same).
    el.artifact.box.hidden = !(b.state === 'succeeded' && b.artifact);
    el.artifact.name.textContent = b.artifact?.name ?? '';
    el.artifact.size.textContent = b.artifact ? `${formatBytes(b.artifact.bytes)} (${b.artifact.bytes} bytes)` : '';
    el.artifact.sha256.textContent = b.artifact?.sha256 ?? '';
    if (b.artifact) el.download.textContent = `Download ${b.artifact.name} (${formatBytes(b.artifact.bytes)})`;
    const run = b.state === 'succeeded' && b.artifact ? b.run ?? [] : [];
    el.run.box.hidden = run.length === 0;
    const text = runText(run);
    if (el.run.code.textContent !== text) {
      el.run.code.textContent = text;
      el.run.status.textContent = '';
    }
    el.cancel.hidden = isFinal(b);
  }

  /** Copies the run commands; where the page may not write the clipboard, selects them for the user to copy. */
  private async copyRun(): Promise<void> {
    const { code, status } = this.el.run;
    try {
      await navigator.clipboard.writeText(code.textContent ?? '');
      status.textContent = 'Copied.';
    } catch {
      window.getSelection()?.selectAllChildren(code);
      status.textContent = 'Selected: copy them with Ctrl+C.';
    }
  }

  private async download(b: BuildInfo): Promise<void> {
    try {
      // The token stays in the page: the link is signed for this build and lives a few minutes.
      const link = await this.api.downloadLink(b.id);
      followDownload(link.url, b.artifact?.name ?? `${b.id}.archive`);
    } catch (err) {
      this.el.error.textContent = `Download failed: ${(err as Error).message}`;
    }
  }

  /** Deletes an ended build with its archive, after asking. */
  private async remove(b: BuildInfo): Promise<void> {
    if (!window.confirm(`Delete build ${b.id}${b.artifact ? ` and ${b.artifact.name}` : ''}?`)) return;
    try {
      await this.api.json('DELETE', `/api/builds/${b.id}`);
      this.current = undefined;
      this.el.view.hidden = true;
      delete this.el.view.dataset.build;
      this.el.listStatus.textContent = `Build ${b.id} deleted.`;
      await this.refreshList();
      this.el.listStatus.focus();
    } catch (err) {
      this.el.error.textContent = `Delete failed: ${(err as Error).message}`;
    }
  }

  private async cancel(id: string): Promise<void> {
    try {
      await this.api.json('DELETE', `/api/builds/${id}`);
    } catch (err) {
      this.el.error.textContent = `Cancel failed: ${(err as Error).message}`;
    }
  }
}
