import { Api, ApiError } from './api.js';
import { BuildsPanel } from './builds.js';
import { LabsPanel } from './labs.js';
import { byId, debounce, h, saveBlob } from './dom.js';
import { ConfigForm, type FormState, type OsInfo, type TargetInfo } from './form.js';
import { filesUnder, getAt, placePicked, reviewOf, type OfferedApp, type Diagnostic, type Edit, type SchemaNode, type Tree } from './model.js';

/*
 * The page: sign in with an API token, write a config with the guided form or as text (each
 * follows the other), build it, follow the build and download the archive.
 */

const TOKEN_KEY = 'vmgen.token';
/** The draft and its target are kept per user in this browser, through sign-out and reload. */
const DRAFT_KEY = 'vmgen.draft';
const TARGET_KEY = 'vmgen.target';
let user = '';
const keyOf = (key: string): string => `${key}:${user}`;
const saveDraft = (text: string): void => localStorage.setItem(keyOf(DRAFT_KEY), text);
const MAX_UPLOAD = 256 * 1024;

interface ParseResult {
  tree: Tree | null;
  diagnostics: Diagnostic[];
  valid: boolean;
  text?: string;
}

const el = {
  signIn: byId('sign-in'),
  signInForm: byId<HTMLFormElement>('sign-in-form'),
  token: byId<HTMLInputElement>('token'),
  signInError: byId('sign-in-error'),
  app: byId('app'),
  session: byId('session'),
  who: byId('who'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  form: byId('config-form'),
  text: byId<HTMLTextAreaElement>('config-text'),
  summary: byId('problem-summary'),
  problems: byId<HTMLUListElement>('problem-list'),
  download: byId<HTMLButtonElement>('download-conf'),
  upload: byId<HTMLInputElement>('upload-conf'),
  fresh: byId<HTMLButtonElement>('new-conf'),
  submit: byId<HTMLButtonElement>('submit'),
  submitStatus: byId('submit-status'),
  refresh: byId<HTMLButtonElement>('refresh-builds'),
  review: byId('review'),
  reviewFacts: byId('review-facts'),
  reviewWarnings: byId<HTMLUListElement>('review-warnings'),
  start: byId('start'),
  startTitle: byId('start-title'),
  presets: byId<HTMLUListElement>('preset-list'),
};

/** A machine a new config can start from (GET /api/config/presets), its text made for the target's kind. */
interface Preset {
  id: string;
  label: string;
  summary: string;
  text: string;
}

let api: Api | undefined;
let form: ConfigForm | undefined;
let builds: BuildsPanel | undefined;
let state: (FormState & { text: string; valid: boolean; appsFor: string | undefined; presets: Preset[] }) | undefined;
/**
 * Files picked for source keys, by their path beside the config, sent with every check and the
 * build. Kept in this page only: too large for session storage, and re-picked after a reload.
 */
const kept = new Map<string, { b64: string; bytes: number }>();
interface FileLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
}
/** What the server said it takes (GET /api/me); these defaults stand in for an older server. */
let fileLimits: FileLimits = { maxFileBytes: 8 * 2 ** 20, maxTotalBytes: 16 * 2 ** 20, maxFiles: 1000 };

/** The kept files as a request carries them; nothing when there are none. */
function filesBody(): { files?: Record<string, string> } {
  return kept.size === 0 ? {} : { files: Object.fromEntries([...kept].map(([path, f]) => [path, f.b64])) };
}
/** Text edits run one after another, each on the text the last one left. */
let chain: Promise<unknown> = Promise.resolve();
const queue = <T>(fn: () => Promise<T>): Promise<T> => {
  const next = chain.then(fn, fn);
  chain = next.catch(() => undefined);
  return next;
};

function showSignIn(message = ''): void {
  el.app.hidden = true;
  el.session.hidden = true;
  el.signIn.hidden = false;
  el.signInError.textContent = message;
  el.token.value = '';
  el.token.focus();
}

/**
 * Signing out keeps the draft for this user's next sign-in in this browser (work is never lost; "New"
 * empties it); the files kept for source keys go, as they live in this page only.
 */
function signOut(message = '', keepFiles = false): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (!keepFiles) kept.clear();
  builds?.stop();
  api = undefined;
  state = undefined;
  showSignIn(message);
}

el.signInForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = el.token.value.trim();
  if (!token) {
    el.signInError.textContent = 'Enter your API token.';
    return;
  }
  el.signInError.textContent = 'Signing in…';
  enter(token).catch((err: unknown) => {
    el.signInError.textContent = err instanceof ApiError && err.status === 401
      ? 'This token is not accepted. Check it, or ask for a new one (vmgen token create NAME).'
      : `Cannot sign in: ${(err as Error).message}`;
  });
});
el.signOut.addEventListener('click', () => signOut());

/** /api/targets as a list of {id, label}, whichever of the usual shapes it comes in. */
function targetsFrom(body: unknown): TargetInfo[] {
  const list = Array.isArray(body) ? body : ((body as { targets?: unknown[] })?.targets ?? []);
  return list.map((t) => {
    if (typeof t === 'string') return { id: t, label: t };
    const info = t as TargetInfo;
    return {
      id: String(info.id), label: String(info.label ?? info.id),
      ...(typeof info.kind === 'string' ? { kind: info.kind } : {}), ...(Array.isArray(info.os) ? { os: info.os.map(String) } : {}),
    };
  });
}

function osFrom(catalog: unknown, model: SchemaNode): OsInfo[] {
  const list = (catalog as { os?: OsInfo[] })?.os;
  if (Array.isArray(list)) return list.map((o) => ({ id: o.id, label: o.label, ...(o.legacy ? { legacy: true } : {}) }));
  return (model.properties?.hardware?.properties?.os?.enum ?? []).map((id) => ({ id, label: id }));
}

async function enter(token: string): Promise<void> {
  const candidate = new Api(token, () => signOut('Your session ended (the token was revoked or expired): sign in again.', true));
  const me = await candidate.json<{ name?: string; user?: string; admin?: boolean; allowScripts?: boolean; files?: FileLimits }>('GET', '/api/me');
  if (me?.files) fileLimits = me.files;
  sessionStorage.setItem(TOKEN_KEY, token);
  api = candidate;
  user = me?.name ?? me?.user ?? '';
  const [model, text, targets, catalog] = await Promise.all([
    api.json<SchemaNode>('GET', '/api/schema'),
    api.json<SchemaNode>('GET', '/api/config/text-schema'),
    api.json<unknown>('GET', '/api/targets'),
    api.json<unknown>('GET', '/api/catalog'),
  ]);
  const targetList = targetsFrom(targets);
  const saved = localStorage.getItem(keyOf(TARGET_KEY));
  state = {
    schemas: { model, text },
    tree: undefined,
    diagnostics: [],
    target: targetList.some((t) => t.id === saved) ? saved! : (targetList[0]?.id ?? ''),
    targets: targetList,
    osList: osFrom(catalog, model),
    apps: [],
    appsFor: undefined,
    text: localStorage.getItem(keyOf(DRAFT_KEY)) ?? '',
    valid: false,
    presets: [],
    files: new Map(),
    allowScripts: me?.allowScripts === true,
  };
  el.signIn.hidden = true;
  el.app.hidden = false;
  el.session.hidden = false;
  el.who.textContent = `Signed in as ${me?.name ?? me?.user ?? 'user'}${me?.admin ? ' (admin)' : ''}`;
  el.text.value = state.text;
  form = new ConfigForm(el.form, { edit: formEdit, target: setTarget, pick: (path, files) => void pickFiles(path, files).catch(reportError), forget: forgetFiles });
  builds = new BuildsPanel(api, {
    view: byId('build'),
    title: byId('build-title'),
    state: byId('build-state'),
    progress: byId<HTMLProgressElement>('build-progress'),
    percent: byId('build-percent'),
    steps: byId<HTMLOListElement>('build-steps'),
    log: byId('build-log'),
    error: byId('build-error'),
    download: byId<HTMLButtonElement>('build-download'),
    artifact: { box: byId('build-artifact'), name: byId('artifact-name'), size: byId('artifact-size'), sha256: byId('artifact-sha256') },
    run: { box: byId('build-run'), code: byId('build-run-code'), copy: byId<HTMLButtonElement>('build-run-copy'), status: byId('build-run-status') },
    cancel: byId<HTMLButtonElement>('build-cancel'),
    clone: byId<HTMLButtonElement>('build-clone'),
    rebuild: byId<HTMLButtonElement>('build-rebuild'),
    remove: byId<HTMLButtonElement>('build-delete'),
    actionStatus: byId('build-action-status'),
    configBox: byId('build-config-box'),
    config: byId('build-config'),
    list: byId<HTMLTableSectionElement>('build-list'),
    listStatus: byId('builds-status'),
  }, {
    clone: (config, target) => {
      if (state?.text.trim() && state.text !== config && !window.confirm('Replace your draft with this build\'s config?')) return;
      if (state && state.targets.some((t) => t.id === target)) {
        state.target = target;
        localStorage.setItem(keyOf(TARGET_KEY), target);
      }
      replaceText(config);
      void loadPresets();
      el.form.querySelector<HTMLElement>('.step h2')?.focus();
    },
    rebuild: async (config, target) => (await api!.json<{ id: string }>('POST', '/api/builds', { config, target, ...filesBody() })).id,
  });
  new LabsPanel(api, {
    labFile: byId<HTMLInputElement>('lab-file'),
    files: byId<HTMLInputElement>('lab-files'),
    target: byId<HTMLSelectElement>('lab-target'),
    submit: byId<HTMLButtonElement>('lab-submit'),
    status: byId('lab-status'),
    problems: byId<HTMLUListElement>('lab-problems'),
    view: byId('lab-view'),
    state: byId('lab-state'),
    diagram: byId('lab-diagram'),
    download: byId<HTMLButtonElement>('lab-download'),
  }, targetList);
  await Promise.all([queue(parseNow), loadPresets()]);
  void builds.refreshList();
  // Past the sign-in form, which is gone: to where the work starts.
  (isBlank(state.text) ? el.startTitle : el.form.querySelector<HTMLElement>('.step h2') ?? el.text).focus();
}

// ---- a start that is never empty ------------------------------------------------------------------

const isBlank = (text: string): boolean => text.trim() === '';

/** The presets of the chosen target, as buttons; shown while the config text is empty. */
async function loadPresets(): Promise<void> {
  if (!state || !api) return;
  const target = state.target;
  const { presets } = await api.json<{ presets: Preset[] }>('GET', `/api/config/presets?target=${encodeURIComponent(target)}`).catch(() => ({ presets: [] as Preset[] }));
  if (state.target !== target) return;
  state.presets = presets;
  el.presets.replaceChildren(...presets.map((p) => {
    const button = h('button', { type: 'button', id: `preset-${p.id}`, class: 'preset', 'aria-describedby': `preset-${p.id}-summary` }, p.label);
    button.addEventListener('click', () => {
      replaceText(p.text);
      el.form.querySelector<HTMLElement>('.step h2')?.focus();
    });
    return h('li', null, button, h('p', { class: 'help', id: `preset-${p.id}-summary` }, p.summary));
  }));
  showStart();
}

function showStart(): void {
  el.start.hidden = !state || !isBlank(state.text) || state.presets.length === 0;
}

// ---- the text and the form, each following the other --------------------------------------------

async function show(result: ParseResult): Promise<void> {
  if (!state || !api) return;
  // A text that stops parsing (a paste, a bracket typed) keeps the last good form, read-only.
  const first = result.diagnostics.find((d) => d.severity === 'error');
  if (result.tree) state.stale = undefined;
  else if (state.tree) state.stale = first ? `Line ${first.line}: ${first.message}` : 'The text does not parse.';
  state.tree = result.tree ?? state.tree;
  state.diagnostics = result.diagnostics;
  state.valid = result.valid;
  state.files = new Map([...kept].map(([path, f]) => [path, f.bytes]));
  const os = getAt(state.tree, ['hardware', 'os']);
  const osId = typeof os === 'string' ? os : undefined;
  if (osId !== state.appsFor) {
    state.appsFor = osId;
    state.apps = osId && state.osList.some((o) => o.id === osId)
      ? (await api.json<{ apps: OfferedApp[] }>('GET', `/api/config/apps?os=${encodeURIComponent(osId)}`).catch(() => ({ apps: [] }))).apps
      : [];
  }
  // An empty text is a start, not a mistake: the presets are shown instead of "[hardware] is missing".
  const blank = isBlank(state.text);
  showProblems(blank ? [] : result.diagnostics, blank);
  form?.render(blank ? { ...state, diagnostics: [] } : state);
  showStart();
  showReview(blank || !result.tree ? undefined : result.tree);
}

/** The machine summed up beside Build, with its warnings: what the user checks before building. */
function showReview(tree: Tree | undefined): void {
  el.review.hidden = !tree || !state;
  if (!tree || !state) return;
  const target = state.targets.find((t) => t.id === state!.target);
  const review = reviewOf(state.schemas, tree, target ? `${target.label} (${target.id})` : state.target);
  el.reviewFacts.replaceChildren(...review.facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const warnings = [...review.warnings, ...state.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message)];
  el.reviewWarnings.replaceChildren(...warnings.map((w) => h('li', { class: 'warning' }, w)));
}

async function parseNow(): Promise<void> {
  if (!state || !api) return;
  const text = state.text;
  const result = await api.json<ParseResult>('POST', '/api/config/parse', { text, target: state.target, ...filesBody() });
  // Typed on meanwhile: a newer parse is on its way.
  if (state.text !== text) return;
  await show(result);
}

const parseSoon = debounce(() => void queue(parseNow).catch(reportError), 400);

el.text.addEventListener('input', () => {
  if (!state) return;
  state.text = el.text.value;
  saveDraft(state.text);
  form?.reset();
  parseSoon();
});

function formEdit(edits: Edit[]): Promise<void> {
  return queue(async () => {
    if (!state || !api) return;
    const text = state.text;
    try {
      const result = await api.json<ParseResult & { text: string }>('POST', '/api/config/edit', { text, edits, target: state.target, ...filesBody() });
      if (state.text !== text) return;
      state.text = result.text;
      el.text.value = result.text;
      saveDraft(result.text);
      await show(result);
    } catch (err) {
      reportError(err);
    }
  });
}

function setTarget(id: string): void {
  if (!state) return;
  state.target = id;
  localStorage.setItem(keyOf(TARGET_KEY), id);
  void queue(parseNow).catch(reportError);
  void loadPresets();
}

function reportError(err: unknown): void {
  const box = document.getElementById('form-problems');
  const message = err instanceof ApiError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : `Cannot reach the server: ${(err as Error).message}`;
  if (box) box.replaceChildren(h('p', { class: 'error', role: 'alert' }, message));
  else el.submitStatus.textContent = message;
}

/** Every diagnostic under the text, each a link to its line. */
function showProblems(diagnostics: Diagnostic[], blank = false): void {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  el.summary.textContent = blank ? 'Nothing written yet: start from a machine above, or fill in the form.' : errors === 0
    ? `Valid${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}.`
    : `${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}.`;
  el.summary.dataset.valid = String(errors === 0 && !blank);
  el.problems.replaceChildren(...diagnostics.map((d) => {
    const where = d.line > 0 ? `${d.line}:${d.column}` : '—';
    // The visible text starts the name, so a voice user can say what they see.
    const go = h('button', { type: 'button', class: 'link', 'aria-label': d.line > 0 ? `${where}, go to line ${d.line}` : 'no line' }, where);
    go.addEventListener('click', () => selectLine(d.line));
    return h('li', { class: d.severity }, go, ` ${d.severity}: ${d.message}`, d.hint ? h('span', { class: 'hint' }, ` (hint: ${d.hint})`) : null);
  }));
  el.submit.disabled = errors > 0 || blank;
  el.submitStatus.textContent = errors > 0 ? 'Fix the errors to build.' : '';
}

function selectLine(line: number): void {
  const lines = el.text.value.split('\n');
  const start = lines.slice(0, Math.max(0, line - 1)).reduce((n, l) => n + l.length + 1, 0);
  el.text.focus();
  el.text.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  const lineHeight = parseFloat(getComputedStyle(el.text).lineHeight) || 18;
  el.text.scrollTop = Math.max(0, (line - 3) * lineHeight);
}

// ---- files ----------------------------------------------------------------------------------------

function replaceText(text: string): void {
  if (!state) return;
  state.text = text;
  el.text.value = text;
  saveDraft(text);
  form?.reset();
  parseSoon.cancel();
  void queue(parseNow).catch(reportError);
}

el.upload.addEventListener('change', () => {
  const file = el.upload.files?.[0];
  el.upload.value = '';
  if (!file) return;
  if (file.size > MAX_UPLOAD) {
    el.submitStatus.textContent = `${file.name} is larger than ${MAX_UPLOAD / 1024} KiB: not a config file.`;
    return;
  }
  void file.text().then((text) => {
    replaceText(text);
    el.submitStatus.textContent = `Loaded ${file.name}.`;
  });
});

el.download.addEventListener('click', () => {
  if (!state) return;
  form?.flush();
  void chain.then(() => {
    const id = getAt(state?.tree, ['hardware', 'vm_id']);
    const base = (typeof id === 'string' && id ? id : 'machine').replace(/[^A-Za-z0-9._-]+/g, '_');
    saveBlob(new Blob([state?.text ?? ''], { type: 'text/plain;charset=utf-8' }), `${base}.conf`);
  });
});

el.fresh.addEventListener('click', () => {
  if (state?.text && !window.confirm('Start a new config? The current text is discarded.')) return;
  replaceText('');
});

// ---- files for source keys ------------------------------------------------------------------------

/** A file's bytes in base64, as a request carries them. */
function base64Of(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('cannot read the file'));
    reader.readAsDataURL(file);
  });
}

/** Keeps a picked file or directory for a source key (what was kept under that name before goes), then points the key at it. */
async function pickFiles(path: string[], picked: File[]): Promise<void> {
  if (!state) return;
  const current = getAt(state.tree, path);
  const place = placePicked(typeof current === 'string' ? current : '', picked.map((f) => ({ name: f.name, size: f.size, ...(f.webkitRelativePath ? { relativePath: f.webkitRelativePath } : {}) })));
  if (!place) return;
  const replaced = new Set(filesUnder(place.source, kept.keys()));
  const others = [...kept].filter(([p]) => !replaced.has(p));
  const total = others.reduce((n, [, f]) => n + f.bytes, 0) + picked.reduce((n, f) => n + f.size, 0);
  const mib = (n: number): string => `${+(n / 2 ** 20).toFixed(1)} MiB`;
  const big = picked.find((f) => f.size > fileLimits.maxFileBytes);
  const refusal = big ? `${big.name} is larger than ${mib(fileLimits.maxFileBytes)}, the most this server takes for one file.`
    : total > fileLimits.maxTotalBytes ? `The files would come to ${mib(total)}; this server takes ${mib(fileLimits.maxTotalBytes)} together.`
      : others.length + picked.length > fileLimits.maxFiles ? `This server takes at most ${fileLimits.maxFiles} files.` : undefined;
  if (refusal) {
    el.submitStatus.textContent = `Not kept: ${refusal}`;
    return;
  }
  const contents = await Promise.all(picked.map((f) => base64Of(f)));
  for (const p of replaced) kept.delete(p);
  place.paths.forEach((p, i) => kept.set(p, { b64: contents[i]!, bytes: picked[i]!.size }));
  el.submitStatus.textContent = `Kept ${place.paths.length === 1 ? place.paths[0] : `${place.paths.length} files under ${place.source}`}.`;
  await formEdit([{ path, value: place.source }]);
}

function forgetFiles(source: string): void {
  for (const p of filesUnder(source, kept.keys())) kept.delete(p);
  void queue(parseNow).catch(reportError);
}

// ---- builds ---------------------------------------------------------------------------------------

el.submit.addEventListener('click', () => {
  form?.flush();
  void queue(async () => {
    if (!state || !api || !builds) return;
    if (!state.valid) {
      el.submitStatus.textContent = 'Fix the errors to build.';
      return;
    }
    el.submit.disabled = true;
    el.submitStatus.textContent = 'Submitting…';
    try {
      const { id } = await api.json<{ id: string }>('POST', '/api/builds', { config: state.text, target: state.target, ...filesBody() });
      el.submitStatus.textContent = `Build ${id} submitted.`;
      void builds.refreshList();
      void builds.open(id);
    } catch (err) {
      if (err instanceof ApiError && err.diagnostics) showProblems(err.diagnostics);
      el.submitStatus.textContent = `Not submitted: ${(err as Error).message}`;
    } finally {
      el.submit.disabled = !state.valid;
    }
  });
});

el.refresh.addEventListener('click', () => void builds?.refreshList());

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) enter(saved).catch(() => signOut('', true));
else showSignIn();
