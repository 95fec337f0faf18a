import { h, type Child } from './dom.js';
import {
  addItemEdits, appChoices, appEdit, fieldFor, fieldSpec, filesUnder, formHint, formMessage, getAt, groupChoices, groupsEdit, itemKeys, itemNames, itemTitle, labelFor, layout, pathId,
  placeInForm, recordSpec, patternOf, removeItemEdits, sectionKeys, SUGGESTIONS, toInput, fromInput,
  type OfferedApp, type Diagnostic, type Edit, type FieldSpec, type Placed, type Schemas, type Tree,
} from './model.js';

export interface TargetInfo {
  id: string;
  label: string;
  /** container or vm; unknown from an older server. */
  kind?: string;
  /** The OS ids it can run; all, from an older server. */
  os?: string[];
}

/** Keys only a VM has: a container target is not offered them (a config that has them still shows them, to remove). */
const VM_ONLY = new Set(['hardware.hdds', 'hardware.cd_drives', 'hardware.firmware']);

export interface OsInfo {
  id: string;
  label: string;
  legacy?: boolean;
}

export interface FormState {
  schemas: Schemas;
  /** Undefined while the text does not parse: the form cannot show or change it then. */
  tree: Tree | undefined;
  diagnostics: Diagnostic[];
  target: string;
  targets: TargetInfo[];
  osList: OsInfo[];
  /** Applications for the chosen OS; empty until one is chosen. */
  apps: OfferedApp[];
  /** The files the page keeps for source keys, by their path beside the config, with their sizes. */
  files: ReadonlyMap<string, number>;
  /** Set while the text does not parse and `tree` is the last one that did: the first error, at its line. */
  stale?: string;
  /** Whether the server runs build-time scripts (`vmgen serve --allow-scripts`). */
  allowScripts: boolean;
}

export interface FormEvents {
  /** Applies edits to the text; resolves once the result is shown. */
  edit(edits: Edit[]): Promise<void>;
  target(id: string): void;
  /** Keeps files the user picked for a source key, and points the key at them. */
  pick(path: string[], files: File[]): void;
  /** Forgets the kept files a source key names. */
  forget(source: string): void;
}

const TEXT_DELAY_MS = 400;

function formatBytes(n: number): string {
  return n < 1024 ? `${n} bytes` : n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}
const fieldId = (id: string): string => `f-${id}`;
/** A user's groups: a checklist of the groups the config defines. */
const GROUPS_OF_USER = 'users.users.*.groups';
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The guided form, drawn again from the tree after every change (the text is the source of truth).
 * A field being typed in keeps what the user typed until that edit has been applied, and focus and
 * caret survive the redraw, so typing is never interrupted.
 */
export class ConfigForm {
  private state: FormState | undefined;
  /** Values typed but not yet applied to the text, by field id. */
  private readonly typed = new Map<string, string | boolean>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Controls that are not one key's field (a user's other groups): how to apply what they hold. */
  private readonly pending = new Map<string, () => void>();
  /** Disclosures the user opened or closed stay so across redraws. */
  private readonly openMore = new Set<string>();
  private readonly closedMore = new Set<string>();
  private focusNext: string | undefined;
  /** The text field being typed in: its own problems wait until the user leaves it (no error mid-word). */
  private typingIn: string | undefined;
  /** Set while the form is redrawn: removing the focused field blurs it, which is no leaving. */
  private redrawing = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly events: FormEvents,
  ) {}

  render(state: FormState): void {
    this.state = state;
    const active = document.activeElement as HTMLInputElement | null;
    const activeId = active && this.root.contains(active) ? active.id : undefined;
    const selection = active && 'selectionStart' in active && typeof active.selectionStart === 'number' && /^(text|password|search|textarea|)$/.test(active.type ?? '')
      ? [active.selectionStart, active.selectionEnd ?? active.selectionStart] as const : undefined;

    const steps = layout(state.schemas);
    const nav = h('nav', { class: 'step-nav', 'aria-label': 'Form steps' },
      h('ol', null, steps.map((s) => h('li', null, h('a', { href: `#step-${s.id}` }, s.title)))));
    const general = h('div', { id: 'form-problems', class: 'form-problems', 'aria-live': 'polite' });
    const body: Child[] = [];
    const readOnly = !state.tree || state.stale !== undefined;
    if (readOnly) {
      // On top, outside the part made inert (inert content is hidden from screen readers too).
      body.push(h('div', { class: 'notice stale', role: 'status', id: 'form-stale' },
        h('p', null, state.tree
          ? 'The config text does not parse. The form shows the last text that did, read-only; fix the text and the form follows again.'
          : 'The config text does not parse: fix the errors shown beside the text, and the form follows.'),
        state.stale ? h('p', { class: 'error' }, state.stale) : null));
    }
    body.push(nav, general);
    const stepBox: Child[] = [];
    steps.forEach((step, i) => {
      stepBox.push(h('section', { id: `step-${step.id}`, class: 'step', 'aria-labelledby': `step-${step.id}-title`, 'data-field': step.section },
        h('h2', { id: `step-${step.id}-title`, tabindex: '-1' }, `${i + 1}. ${step.title}`),
        step.section ? h('ul', { class: 'field-errors', id: `err-${step.section}` }) : null,
        step.items.flatMap((p) => this.placed(p))));
    });
    body.push(h('div', { class: 'steps', inert: readOnly }, stepBox));
    this.redrawing = true;
    try {
      this.root.replaceChildren(...body.filter((c): c is Node | string => !!c));
    } finally {
      this.redrawing = false;
    }
    this.root.classList.toggle('read-only', readOnly);
    // A stale tree's problems were the last good text's; the text pane lists the current ones.
    this.showDiagnostics(readOnly ? [] : state.diagnostics);

    const focusId = this.focusNext ?? activeId;
    this.focusNext = undefined;
    const el = focusId ? document.getElementById(focusId) : null;
    if (el instanceof HTMLElement) {
      el.focus({ preventScroll: focusId === activeId });
      if (selection && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) && focusId === activeId) {
        try {
          el.setSelectionRange(selection[0], selection[1]);
        } catch {
          // not a text input any more
        }
      }
    }
  }

  private placed(p: Placed): Child | Child[] {
    if (p.kind === 'target') return this.targetField();
    // A section shown with another (a NIC's addresses with its card): its own messages sit there too.
    if (p.kind === 'field') return [this.field(p.path), ...(p.also ?? []).map((a) => this.errorsOf(a))];
    return this.more([{ path: p.path, keys: p.keys }], `More ${labelFor(this.state!.schemas, p.path).toLowerCase()} settings`);
  }

  /** Where the messages about a path go that has no field of its own on the form. */
  private errorsOf(path: readonly string[]): HTMLElement {
    return h('div', { 'data-field': pathId(path) }, h('ul', { class: 'field-errors', id: `err-${pathId(path)}` }));
  }

  /** Keys that wait behind a disclosure; open when one of them holds a value, or the user opened it. */
  private more(parts: { path: string[]; keys: string[] }[], title: string): HTMLElement {
    const id = `more-${pathId(parts[0]!.path)}`;
    const tree = this.state!.tree;
    const hasValue = parts.some(({ path, keys }) => keys.some((k) => getAt(tree, [...path, k]) !== undefined));
    const open = !this.closedMore.has(id) && (this.openMore.has(id) || hasValue);
    const details = h('details', { class: 'more', id, open },
      h('summary', null, title),
      h('div', { class: parts[0]!.path.length > 1 ? 'item-fields' : 'more-fields' }, parts.flatMap(({ path, keys }) => keys.map((k) => this.field([...path, k])))));
    details.addEventListener('toggle', () => {
      (details.open ? this.openMore : this.closedMore).add(id);
      (details.open ? this.closedMore : this.openMore).delete(id);
    });
    return details;
  }

  private targetField(): Child {
    const s = this.state!;
    const select = h('select', { id: 'target-select', name: 'target', 'aria-describedby': 'target-help' },
      s.targets.map((t) => h('option', { value: t.id, selected: t.id === s.target }, `${t.label} (${t.id})`)));
    select.addEventListener('change', () => this.events.target(select.value));
    return h('div', { class: 'field', 'data-field': '@target' },
      h('label', { for: 'target-select' }, 'Build target'),
      select,
      h('p', { class: 'help', id: 'target-help' }, 'What the build makes: a container archive or a virtual machine. Checked against the config as you type.'),
      h('ul', { class: 'field-errors', id: 'err-@target' }));
  }

  private field(path: string[]): Child {
    const spec = fieldSpec(this.state!.schemas, path);
    if (!spec) return null;
    const target = this.state!.targets.find((t) => t.id === this.state!.target);
    if (target?.kind === 'container' && VM_ONLY.has(pathId(path)) && getAt(this.state!.tree, path) === undefined) {
      return h('p', { class: 'help', 'data-field': pathId(path), id: `vm-only-${pathId(path)}` }, `${spec.label}: none, ${target.label} is a container (a VM target has them).`);
    }
    if (patternOf(this.state!.schemas, path) === GROUPS_OF_USER) return this.groups(spec);
    switch (spec.kind) {
      case 'section':
        return h('fieldset', { class: 'group', 'data-field': pathId(path) },
          h('legend', null, spec.label),
          spec.help && spec.items ? h('p', { class: 'help' }, spec.help) : null,
          h('ul', { class: 'field-errors', id: `err-${pathId(path)}` }),
          sectionKeys(this.state!.schemas, path, this.state!.tree).map((k) => this.field([...path, k])),
          spec.items ? this.record(spec, true) : null);
      case 'record':
        return this.record(spec);
      case 'apps':
        return this.apps(spec);
      default:
        return this.input(spec);
    }
  }

  private input(spec: FieldSpec, label = spec.label, extra?: Child): HTMLElement {
    const id = pathId(spec.path);
    const s = this.state!;
    const current = this.typed.get(id) ?? toInput(spec, getAt(s.tree, spec.path));
    const described = [spec.help ? `help-${id}` : undefined, `err-${id}`].filter(Boolean).join(' ');
    const common = { id: fieldId(id), name: id, 'data-path': id, 'aria-describedby': described, 'aria-required': spec.required ? 'true' : undefined };
    let control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    let picker: HTMLDataListElement | undefined;
    if (spec.kind === 'multiline') {
      // A script or a file's text: Enter is a line break here, never a submit.
      control = h('textarea', { ...common, rows: '6', spellcheck: 'false', autocomplete: 'off' });
      control.value = String(current);
      control.addEventListener('input', () => this.typedValue(spec, control.value));
      control.addEventListener('change', () => this.commitNow(spec, control.value));
    } else if (spec.kind === 'checkbox') {
      control = h('input', { ...common, type: 'checkbox', checked: current === true });
      control.addEventListener('change', () => this.commitNow(spec, (control as HTMLInputElement).checked));
    } else if (spec.kind === 'select') {
      control = this.select(spec, String(current), common);
      control.addEventListener('change', () => this.commitNow(spec, control.value));
    } else {
      control = h('input', {
        ...common,
        type: spec.kind === 'password' ? 'password' : 'text',
        value: String(current),
        autocomplete: spec.kind === 'password' ? 'new-password' : 'off',
        spellcheck: 'false',
        inputmode: spec.numeric ? 'numeric' : undefined,
        placeholder: spec.defaultText !== undefined ? `default: ${spec.defaultShown ?? spec.defaultText}` : spec.kind === 'list' ? 'a, b' : undefined,
      });
      control.addEventListener('input', () => {
        this.typingIn = id;
        this.typedValue(spec, control.value);
      });
      control.addEventListener('change', () => this.commitNow(spec, control.value));
      control.addEventListener('blur', () => {
        if (this.typingIn !== id || this.redrawing) return;
        this.typingIn = undefined;
        // Left unchanged (no edit to redraw the form): show what was held back now, without a redraw
        // that would lose what is typed elsewhere (an "add" field).
        setTimeout(() => !this.timers.has(id) && !this.typed.has(id) && this.redrawDiagnostics());
      });
      const suggest = SUGGESTIONS[patternOf(s.schemas, spec.path)];
      if (suggest) {
        control.setAttribute('list', `list-${id}`);
        picker = h('datalist', { id: `list-${id}` }, suggest().map((v) => h('option', { value: v })));
      }
    }
    const labelEl = h('label', { for: fieldId(id) }, label, spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
    return h('div', { class: `field field-${spec.kind}`, 'data-field': id },
      spec.kind === 'checkbox' ? [control, labelEl] : [labelEl, control],
      spec.kind === 'source' ? this.sourceFiles(spec, String(current)) : null,
      picker,
      extra,
      spec.help ? h('p', { class: 'help', id: `help-${id}` }, spec.help) : null,
      h('ul', { class: 'field-errors', id: `err-${id}` }));
  }

  /**
   * A source key's files: pick a file or a directory (the page keeps them and sends them with every
   * check and the build), and see which of the kept files the key names now.
   */
  private sourceFiles(spec: FieldSpec, current: string): HTMLElement {
    const id = pathId(spec.path);
    const kept = filesUnder(current, this.state!.files.keys());
    const bytes = kept.reduce((n, p) => n + (this.state!.files.get(p) ?? 0), 0);
    const file = h('input', { type: 'file', id: `pick-${id}`, 'aria-describedby': `kept-${id}` });
    const dir = h('input', { type: 'file', id: `pick-dir-${id}`, webkitdirectory: true, 'aria-describedby': `kept-${id}` });
    for (const input of [file, dir]) {
      input.addEventListener('change', () => {
        const picked = [...(input.files ?? [])];
        input.value = '';
        if (picked.length > 0) this.events.pick(spec.path, picked);
      });
    }
    const forget = h('button', { type: 'button', class: 'link', id: `forget-${id}` }, 'Forget them');
    forget.addEventListener('click', () => this.events.forget(current));
    const named = current.trim();
    return h('div', { class: 'source-files' },
      h('span', { class: 'upload' }, h('label', { for: `pick-${id}` }, 'Upload a file'), file),
      h('span', { class: 'upload' }, h('label', { for: `pick-dir-${id}` }, 'or a directory'), dir),
      h('p', { class: 'help', id: `kept-${id}`, role: 'status' }, kept.length === 0
        ? (named ? `The page keeps no ${named}: upload it, so it goes to the server with the config.` : 'Upload what this names: the page sends it with the config.')
        : [`Kept: ${kept.length === 1 ? kept[0] : `${kept.length} files under ${named}`} (${formatBytes(bytes)}). `, forget]));
  }

  private select(spec: FieldSpec, current: string, attrs: Record<string, string | undefined>): HTMLSelectElement {
    const s = this.state!;
    const isOs = pathId(spec.path) === 'hardware.os';
    const label = (v: string): string => {
      if (!isOs) return v;
      const os = s.osList.find((o) => o.id === v);
      return os ? `${os.label} (${v})` : v;
    };
    const none = spec.defaultText !== undefined ? `default (${spec.defaultShown ?? spec.defaultText})` : spec.required ? 'choose…' : 'not set';
    const options = spec.options ?? [];
    const option = (v: string): HTMLOptionElement => h('option', { value: v, selected: v === current }, label(v));
    const children: Child[] = [h('option', { value: '', selected: current === '' }, none)];
    const same = spec.aliases?.[current];
    if (current !== '' && !options.includes(current)) children.push(h('option', { value: current, selected: true }, same ? `${current} (the same as ${same})` : `${current} (not a known value)`));
    // Seed-era ids build as a current OS listed already: offered only to a file that has one.
    const legacy = new Set(isOs ? s.osList.filter((o) => o.legacy && o.id !== current).map((o) => o.id) : []);
    const target = s.targets.find((t) => t.id === s.target);
    const runs = isOs && target?.os ? new Set(target.os) : undefined;
    const offered = options.filter((v) => !legacy.has(v));
    children.push(...offered.filter((v) => !runs || runs.has(v)).map(option));
    const cannot = runs ? offered.filter((v) => !runs.has(v)) : [];
    if (cannot.length > 0) {
      children.push(h('optgroup', { label: `Not for ${target!.label}: ${target!.kind === 'container' ? 'a container runs Linux only' : 'this target cannot run them'}` },
        cannot.map((v) => h('option', { value: v, disabled: v !== current, selected: v === current }, label(v)))));
    }
    return h('select', attrs, children);
  }

  /** A list of items; `inSection`: the items of a section that has keys of its own, inside its fieldset. */
  private record(spec: FieldSpec, inSection = false): HTMLElement {
    const s = this.state!;
    const path = spec.path;
    const id = pathId(path);
    const rec = recordSpec(s.schemas, path);
    const names = rec.names ? rec.names(s.tree) : itemNames(s.tree, path, s.schemas);
    const noun = rec.noun;
    const items = names.map((name) => {
      const item = [...path, name];
      const itemSpec = fieldSpec(s.schemas, item);
      // Named by what it holds ("User alice", "Port 80/tcp"), not by its key in the file.
      const title = itemTitle(s.schemas, s.tree, path, name);
      const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${title}` }, 'Remove');
      remove.addEventListener('click', () => {
        this.focusNext = `add-${id}`;
        void this.events.edit(removeItemEdits(s.schemas, path, name));
      });
      if (itemSpec?.kind !== 'section') {
        // A record of plain values: one field per item.
        return itemSpec ? this.input(itemSpec, title, remove) : null;
      }
      // One thing in two sections (a NIC's card and its addresses): both halves' keys in one item.
      const halves = [item, ...(rec.joined ? [rec.joined(name)] : [])].map((p) => ({ path: p, ...itemKeys(s.schemas, p, s.tree) }));
      const more = halves.filter((half) => half.more.length > 0).map((half) => ({ path: half.path, keys: half.more }));
      return h('fieldset', { class: 'item', 'data-field': pathId(item) },
        h('legend', null, title),
        remove,
        h('ul', { class: 'field-errors', id: `err-${pathId(item)}` }),
        halves.slice(1).map((half) => this.errorsOf(half.path)),
        h('div', { class: 'item-fields' }, halves.flatMap((half) => half.primary.map((k) => this.field([...half.path, k])))),
        more.length > 0 ? this.more(more, `More settings of ${title.charAt(0).toLowerCase()}${title.slice(1)}`) : null);
    });
    return h('fieldset', { class: 'record', ...(inSection ? {} : { 'data-field': id }) },
      h('legend', null, inSection ? `${capital(noun)}s` : spec.label),
      spec.help && !inSection ? h('p', { class: 'help' }, spec.help) : null,
      inSection ? null : h('ul', { class: 'field-errors', id: `err-${id}` }),
      id === 'scripts' ? h('p', { class: 'help', id: 'scripts-policy' }, s.allowScripts
        ? 'This server runs build-time scripts (in a sandbox on the build host) and first-boot scripts (in the guest).'
        : 'This server does not run build-time scripts (its admin can allow them with vmgen serve --allow-scripts); first-boot scripts run in the guest and are fine.') : null,
      items.length === 0 ? h('p', { class: 'empty' }, `No ${noun}s.`) : null,
      items,
      rec.addable === false ? h('p', { class: 'help' }, `Add ${noun}s under Hardware.`) : this.addRow(spec));
  }

  /** "Add disk": asks first for what an item cannot be without (a disk's size, a user's name). */
  private addRow(spec: FieldSpec): HTMLElement {
    const s = this.state!;
    const path = spec.path;
    const id = pathId(path);
    const rec = recordSpec(s.schemas, path);
    const itemIsValue = fieldSpec(s.schemas, [...path, '_'])?.kind !== 'section';
    // Named by the user: the name is asked as text, whatever the item holds.
    const named: FieldSpec | undefined = rec.askName !== undefined ? { kind: 'text', path: [...path, '_'], label: rec.askName, required: true, numeric: false } : undefined;
    const askSpec = named ?? (itemIsValue ? fieldSpec(s.schemas, [...path, '_']) : rec.ask ? fieldSpec(s.schemas, [...path, '_', rec.ask]) : undefined);
    const button = h('button', { type: 'button', id: `add-${id}`, class: 'add' }, `Add ${rec.noun}`);
    const message = h('p', { class: 'add-message', id: `add-msg-${id}`, role: 'status' });
    let ask: HTMLInputElement | HTMLSelectElement | undefined;
    if (askSpec) {
      const askLabel = itemIsValue && !named ? `New ${rec.noun}` : `New ${rec.noun}: ${named ? askSpec.label : askSpec.label.toLowerCase()}`;
      ask = askSpec.kind === 'select'
        ? this.select({ ...askSpec, required: true, defaultText: undefined }, '', { id: `ask-${id}`, 'aria-describedby': `add-msg-${id}` })
        : h('input', { id: `ask-${id}`, type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `add-msg-${id}` });
      ask.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key === 'Enter') {
          ev.preventDefault();
          button.click();
        }
      });
      ask.dataset.label = askLabel;
    }
    button.addEventListener('click', () => {
      const value = ask?.value.trim();
      if (ask && !value) {
        message.textContent = `Enter the ${ask.dataset.label?.replace(/^New [^:]*: /, '') ?? 'value'} first.`;
        ask.focus();
        return;
      }
      const { name, edits } = addItemEdits(s.schemas, s.tree, path, value);
      const first = itemIsValue ? [...path, name] : [...path, name, ...(sectionKeys(s.schemas, [...path, name]).slice(0, 1))];
      this.focusNext = fieldId(pathId(first));
      void this.events.edit(edits);
    });
    return h('div', { class: 'add-row' },
      ask ? [h('label', { for: `ask-${id}` }, ask.dataset.label ?? ''), ask] : null,
      button, message);
  }

  /**
   * A user's groups: a box per group the config defines, and a text field for the rest (the OS's
   * own groups, such as sudo), so nothing the text holds is hidden.
   */
  private groups(spec: FieldSpec): HTMLElement {
    const s = this.state!;
    const id = pathId(spec.path);
    const { defined, others } = groupChoices(s.schemas, s.tree, spec.path);
    const checkedNow = (): string[] => [...list.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((b) => b.checked).map((b) => b.value);
    const otherId = `${id}.other`;
    const other = h('input', {
      id: fieldId(otherId), type: 'text', autocomplete: 'off', spellcheck: 'false', value: String(this.typed.get(otherId) ?? others.join(', ')),
      placeholder: 'e.g. sudo, audio', 'aria-describedby': `err-${id}`,
    });
    const apply = (): void => {
      clearTimeout(this.timers.get(otherId));
      this.timers.delete(otherId);
      this.pending.delete(otherId);
      const edit = groupsEdit(spec.path, checkedNow(), other.value);
      void this.events.edit([edit]).finally(() => {
        if (this.typed.get(otherId) === other.value) this.typed.delete(otherId);
      });
    };
    // Typed groups are applied as other text fields are: a moment after the last key, or on leaving.
    other.addEventListener('input', () => {
      this.typed.set(otherId, other.value);
      clearTimeout(this.timers.get(otherId));
      this.timers.set(otherId, setTimeout(apply, TEXT_DELAY_MS));
      this.pending.set(otherId, apply);
    });
    other.addEventListener('change', () => this.typed.has(otherId) && apply());
    const list = h('div', { class: 'group-list' }, defined.map((g, i) => {
      const boxId = fieldId(`${id}.${i}`);
      const box = h('input', { type: 'checkbox', id: boxId, value: g.name, checked: g.checked });
      box.addEventListener('change', apply);
      return h('span', { class: 'group-choice' }, box, h('label', { for: boxId }, g.name));
    }));
    return h('fieldset', { class: 'groups', 'data-field': id, id: fieldId(id), tabindex: '-1' },
      h('legend', null, 'Groups'),
      defined.length === 0 ? h('p', { class: 'help' }, 'No groups defined yet: add them under Groups above, or type the OS\'s own below.') : list,
      h('div', { class: 'field field-text' },
        h('label', { for: fieldId(otherId) }, defined.length === 0 ? 'Groups (comma-separated)' : 'Other groups (comma-separated)'),
        other),
      h('ul', { class: 'field-errors', id: `err-${id}` }));
  }

  private apps(spec: FieldSpec): HTMLElement {
    const s = this.state!;
    const category = spec.path[0]!;
    const os = getAt(s.tree, ['hardware', 'os']);
    const choices = appChoices(category, s.apps, s.tree);
    return h('fieldset', { class: 'apps', 'data-field': category },
      h('legend', null, spec.label),
      h('ul', { class: 'field-errors', id: `err-${category}` }),
      s.apps.length === 0 ? h('p', { class: 'help' }, typeof os === 'string' && os ? `No catalog for ${os}.` : 'Choose the operating system first: only what it can install is offered.') : null,
      h('div', { class: 'app-grid' }, choices.map((app) => {
        const id = `${category}.${app.name}`;
        const box = h('input', { type: 'checkbox', id: fieldId(id), 'data-path': id, checked: app.checked, 'aria-describedby': `err-${id}` });
        box.addEventListener('change', () => void this.events.edit([appEdit(category, app.name, box.checked)]));
        return h('div', { class: `app${app.available ? '' : ' unavailable'}`, 'data-field': id },
          box,
          h('label', { for: fieldId(id) }, h('span', { class: 'app-name' }, app.name), ' ',
            h('span', { class: 'app-desc' }, app.available ? app.description : `${app.description ? `${app.description}: ` : ''}${app.reason ?? 'not available'}`)),
          h('ul', { class: 'field-errors', id: `err-${id}` }));
      })));
  }

  private typedValue(spec: FieldSpec, value: string | boolean): void {
    const id = pathId(spec.path);
    this.typed.set(id, value);
    clearTimeout(this.timers.get(id));
    this.timers.set(id, setTimeout(() => this.commit(spec), TEXT_DELAY_MS));
  }

  private commitNow(spec: FieldSpec, value: string | boolean): void {
    this.typed.set(pathId(spec.path), value);
    this.commit(spec);
  }

  private commit(spec: FieldSpec): void {
    const id = pathId(spec.path);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    if (!this.typed.has(id)) return;
    const value = this.typed.get(id)!;
    const current = toInput(spec, getAt(this.state?.tree, spec.path));
    if (value === current) {
      this.typed.delete(id);
      return;
    }
    void this.events.edit([fromInput(spec, value)]).finally(() => {
      // Typed on while it was applied: the newer value is still to come.
      if (this.typed.get(id) === value) this.typed.delete(id);
    });
  }

  /** Applies every pending field edit now (before a submit or a download). */
  flush(): void {
    if (!this.state) return;
    for (const id of [...this.timers.keys()]) {
      const own = this.pending.get(id);
      if (own) {
        own();
        continue;
      }
      const spec = fieldSpec(this.state.schemas, id.split('.'));
      if (spec) this.commit(spec);
    }
  }

  /** Forgets typed values, when the text is replaced from elsewhere (upload, the text pane). */
  reset(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    this.typed.clear();
  }

  /** The problems beside the fields again, on the form as it stands. */
  private redrawDiagnostics(): void {
    const s = this.state;
    if (!s || !s.tree || s.stale !== undefined) return;
    for (const list of this.root.querySelectorAll('.field-errors')) list.replaceChildren();
    for (const el of this.root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    this.root.querySelector('#form-problems')?.replaceChildren();
    this.showDiagnostics(s.diagnostics);
  }

  private showDiagnostics(diagnostics: Diagnostic[]): void {
    const shown = new Set<string>();
    for (const el of this.root.querySelectorAll<HTMLElement>('[data-field]')) shown.add(el.dataset.field!);
    const general = this.root.querySelector<HTMLElement>('#form-problems');
    const generalList = h('ul', { class: 'field-errors' });
    for (const d of diagnostics) {
      const at = fieldFor(d.path, shown);
      // The field being typed in: its problem shows once the user leaves it (the text pane lists it meanwhile).
      if (at !== undefined && at === this.typingIn) continue;
      const list = at ? document.getElementById(`err-${at}`) : null;
      // In the form's words: the field and step, not the file's key (the text pane keeps the CLI's).
      const where = d.path ? `${placeInForm(this.state!.schemas, this.state!.tree, d.path)} (${d.severity})` : d.severity;
      const li = h('li', { class: d.severity }, `${where}: ${formMessage(d.message, d.path)}`, d.hint ? h('span', { class: 'hint' }, ` (${formHint(this.state!.schemas, d.hint, d.path)})`) : null);
      if (!list) {
        generalList.append(li);
        continue;
      }
      list.append(li);
      if (d.severity === 'error') document.getElementById(fieldId(at!))?.setAttribute('aria-invalid', 'true');
      const more = list.closest('details');
      if (more && !more.open) more.open = true;
    }
    if (general && generalList.childElementCount > 0) general.append(h('h3', null, 'About the whole config'), generalList);
  }
}
