import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldSpecAt, leaves } from './form-helpers.js';
import { includesAll, someItem, everyItem, show } from '../helpers/assert-values.js';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { findOs, loadCatalogs } from '../../src/catalog/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { parseIni } from '../../src/config/ini/parse.js';
import { schemaFor } from '../../src/config/schema-for.js';
import { normalize } from '../../src/config/normalize.js';
import { applyEdits, keyOrderFromSchema } from '../../src/service/web/edit.js';
import { appOffer, configTextSchema } from '../../src/service/web/plugin.js';
import {
  addItemEdits, appChoices, appEdit, fieldFor, fieldSpec, fromInput, getAt, itemKeys, labelFor, layout, nextItemName, nicNames, removeItemEdits, sectionKeys,
  STEPS, toInput, withUnit, formHint, formMessage, reviewOf, itemTitle, placeInForm, stepOf, groupChoices, groupsEdit, recordSpec,
  type Edit, type SchemaNode, type Schemas, type Tree,
} from '../../web/src/model.js';
import { SseParser, type SseEvent } from '../../web/src/sse.js';

/*
 * The page's form model, without a browser: which field each key gets, and the round trip
 * text → form field → edit → text. Every value of the examples and the seed's listings must come
 * back from the form as the model reads it.
 */

const repo = new URL('../../', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, repo), 'utf8');
const catalogs = loadCatalogs({ env: {} });
const schemas: Schemas = { model: configJsonSchema(catalogs) as SchemaNode, text: configTextSchema(catalogs) as SchemaNode };
const order = keyOrderFromSchema(schemas.model);
const treeOf = (text: string): Tree => normalize(parseIni(text).doc.root).tree as Tree;
const WEB = read('examples/debian-web.conf');
const WINXP = read('test/fixtures/seed/winxp-vmware.conf');
const FILES = [
  ...readdirSync(new URL('examples/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `examples/${f}`),
  ...readdirSync(new URL('test/fixtures/seed/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `test/fixtures/seed/${f}`),
].sort();

const spec = (path: string) => fieldSpecAt(schemas, path);

describe('withUnit: a default as a person reads it', () => {
  test('MiB as MB or GB, seconds named, anything else as it is', () => {
    assert.equal(withUnit('1024', 'memory (MiB; write 8GB)'), '1 GB');
    assert.equal(withUnit('512', 'memory (MiB)'), '512 MB');
    assert.equal(withUnit('3600', 'lease time, seconds'), '3600 seconds');
    assert.equal(withUnit('nat', 'memory (MiB)'), 'nat');
    assert.equal(withUnit('2', 'number of virtual CPUs'), '2');
  });
});

describe('fieldSpec: the widget each key gets, from the two schemas', () => {
  test('choices, yes/no, lists, passwords, text', () => {
    const os = spec('hardware.os');
    assert.equal(os.kind, 'select');
    assert.deepEqual(os.options, catalogs.os.map((o) => o.id));
    assert.equal(os.required, true);
    assert.equal(spec('hardware.num_cpu').kind, 'text');
    assert.equal(spec('hardware.num_cpu').numeric, true);
    assert.equal(spec('hardware.num_cpu').defaultText, '1');
    assert.equal(spec('hardware.ram').numeric, false, 'a size is written 1GB');
    assert.equal(spec('network.eths.eth0.network').numeric, false, 'a netmask may be dotted');
    assert.deepEqual([spec('hardware.ram').defaultText, spec('hardware.ram').defaultShown], ['1024', '1 GB'], 'a default is shown with its unit');
    assert.equal(spec('hardware.num_cpu').defaultShown, undefined, 'a count has no unit');
    assert.deepEqual([spec('config.bash_completion').kind, spec('config.bash_completion').defaultText], ['checkbox', '0']);
    assert.deepEqual([spec('hardware.cd_drives.cd0.connected').kind, spec('hardware.cd_drives.cd0.connected').defaultText], ['checkbox', '1']);
    assert.equal(spec('users.users.user0.groups').kind, 'list');
    assert.equal(spec('network.dns').kind, 'list');
    assert.equal(spec('config.root_passwd').kind, 'password');
    assert.equal(spec('users.users.user0.passwd').kind, 'password');
    assert.equal(spec('users.users.user0.password_hash').kind, 'text');
    assert.equal(spec('network.open_ports.ssh.port').kind, 'text', 'a port is a value in the text, though the model holds {from, to}');
    assert.equal(spec('users.users.user0.name').required, true);
  });

  test('sections, lists of items, application sections', () => {
    assert.equal(spec('hardware').kind, 'section');
    assert.equal(spec('hardware.hdds').kind, 'record');
    assert.equal(spec('hardware.hdds.hdd0').kind, 'section');
    assert.equal(spec('users.groups').kind, 'record');
    assert.equal(spec('users.groups.group0').kind, 'text');
    const devel = spec('devel');
    assert.equal(devel.kind, 'apps');
    includesAll(devel.options ?? [], ['vim']);
    assert.equal(fieldSpec(schemas, ['hardware', 'nosuch']), undefined);
  });

  test('labels by pattern, else the key in words', () => {
    assert.equal(labelFor(schemas, ['hardware', 'hdds', 'hdd3', 'size']), 'Size');
    assert.equal(labelFor(schemas, ['users', 'users', 'caesar', 'name']), 'Login name');
    assert.equal(labelFor(schemas, ['hardware', 'hdds', 'd', 'partitions', 'p', 'fs']), 'File system');
    assert.equal(labelFor(schemas, ['network', 'firewall-rules', 'rule0']), 'Rule0');
  });
});

describe('values: text → field → edit', () => {
  test('each kind, both ways', () => {
    const groups = spec('users.users.user0.groups');
    assert.equal(toInput(groups, ['julius', 'sudo']), 'julius, sudo');
    assert.deepEqual(fromInput(groups, ' julius ,sudo, '), { path: groups.path, value: ['julius', 'sudo'] });
    assert.deepEqual(fromInput(groups, 'julius'), { path: groups.path, value: 'julius' }, 'one item is written as a value');
    assert.deepEqual(fromInput(groups, ' , '), { path: groups.path, unset: true });

    const bash = spec('config.bash_completion');
    assert.equal(toInput(bash, 'Yes'), true);
    assert.equal(toInput(bash, undefined), false);
    assert.deepEqual(fromInput(bash, true), { path: bash.path, value: '1' });
    assert.deepEqual(fromInput(bash, false), { path: bash.path, unset: true }, 'no is the default: the key goes');
    const connected = spec('hardware.eths.eth0.connected');
    assert.equal(toInput(connected, undefined), true, 'the default shows');
    assert.deepEqual(fromInput(connected, false), { path: connected.path, value: '0' });

    const host = spec('config.hostname');
    assert.deepEqual(fromInput(host, '  web1 '), { path: host.path, value: 'web1' });
    assert.deepEqual(fromInput(host, ''), { path: host.path, unset: true });
    const pw = spec('config.root_passwd');
    assert.deepEqual(fromInput(pw, ' two words '), { path: pw.path, value: ' two words ' }, 'a password keeps its spaces');
    assert.equal(toInput(host, { nested: 'x' }), '', 'a section where a value belongs shows nothing');
  });

  for (const file of FILES) {
    test(`${file}: every value comes back through the form as the model reads it`, () => {
      const tree = treeOf(read(file));
      const edits: Edit[] = leaves(tree).map(({ path, value }) => {
        const s = fieldSpec(schemas, path);
        assert.ok(s, `${file}: the form has a field for ${path.join('.')}`);
        return fromInput(s, toInput(s, value));
      });
      const again = treeOf(applyEdits('', edits, order));
      const model = schemaFor(catalogs);
      const before = model.safeParse(tree);
      const after = model.safeParse(again);
      assert.equal(after.success, before.success);
      if (before.success && after.success) assert.deepEqual(after.data, before.data);
      else assert.deepEqual(after.error?.issues.map((i) => i.path), before.error?.issues.map((i) => i.path));
    });
  }
});

describe('layout: the guided steps', () => {
  const steps = layout(schemas);

  test('target and OS first', () => {
    assert.deepEqual(steps[0]!.items.slice(0, 2), [{ kind: 'target' }, { kind: 'field', path: ['hardware', 'os'] }]);
    assert.deepEqual(steps.map((s) => s.id), STEPS.map((s) => s.id), 'no key of the model is left for an extra step');
  });

  test('every key of every section is placed exactly once', () => {
    const placed: string[] = [];
    for (const step of steps) {
      for (const item of step.items) {
        // A section placed whole (the service sections) places each of its keys.
        if (item.kind === 'field') {
          for (const path of [item.path, ...(item.also ?? [])]) {
            placed.push(...(spec(path.join('.')).kind === 'section' ? sectionKeys(schemas, path).map((k) => [...path, k].join('.')) : [path.join('.')]));
          }
        }
        if (item.kind === 'more') placed.push(...item.keys.map((k) => [...item.path, k].join('.')));
      }
    }
    assert.equal(new Set(placed).size, placed.length, `no duplicates: ${placed.join(' ')}`);
    const expected: string[] = [];
    for (const top of sectionKeys(schemas, [])) {
      const s = spec(top);
      if (s.kind === 'section') expected.push(...sectionKeys(schemas, [top]).map((k) => `${top}.${k}`));
      else expected.push(top);
    }
    assert.deepEqual([...placed].sort(), expected.sort());
  });

  test('a key the model gains lands in its section\'s "more" list', () => {
    const model = structuredClone(schemas.model);
    const text = structuredClone(schemas.text);
    model.properties!.config!.properties!.motd = { type: 'string', description: 'message of the day' };
    text.properties!.config!.properties!.motd = { type: 'string' };
    const more = layout({ model, text }).find((s) => s.id === 'system')!.items.find((i) => i.kind === 'more');
    assert.equal(more?.kind, 'more');
    includesAll(more.keys, ['motd']);
  });
});

describe('lists of items: disks, NICs, users, groups', () => {
  const web = treeOf(WEB);

  test('item names: the first free prefixN', () => {
    assert.equal(nextItemName([], 'hdd'), 'hdd0');
    assert.equal(nextItemName(['hdd0', 'hdd2'], 'hdd'), 'hdd1');
  });

  test('a disk asks for its size; a user for the login name; a group is its value', () => {
    assert.deepEqual(addItemEdits(schemas, web, ['hardware', 'hdds'], '8GB'), { name: 'hdd1', edits: [{ path: ['hardware', 'hdds', 'hdd1', 'size'], value: '8GB' }] });
    assert.deepEqual(addItemEdits(schemas, web, ['users', 'users'], 'brutus').edits, [{ path: ['users', 'users', 'user2', 'name'], value: 'brutus' }]);
    assert.deepEqual(addItemEdits(schemas, web, ['users', 'groups'], 'senate').edits, [{ path: ['users', 'groups', 'group2'], value: 'senate' }]);
    assert.deepEqual(addItemEdits(schemas, web, ['network', 'open_ports'], '443').edits, [
      { path: ['network', 'open_ports', 'port0', 'proto'], value: 'tcp' },
      { path: ['network', 'open_ports', 'port0', 'port'], value: '443' },
    ]);
  });

  test('a NIC is one adapter in two sections, named past both', () => {
    const winxp = treeOf(WINXP);
    assert.deepEqual(nicNames(winxp), ['eth0', 'eth1'], 'eth1 is only in [network]');
    const { name, edits } = addItemEdits(schemas, winxp, ['hardware', 'eths']);
    assert.equal(name, 'eth2');
    assert.deepEqual(edits, [{ path: ['hardware', 'eths', 'eth2', 'type'], value: 'nat' }, { path: ['network', 'eths', 'eth2', 'type'], value: 'dhcp' }]);
    assert.deepEqual(removeItemEdits(schemas, ['network', 'eths'], 'eth0'), [
      { path: ['hardware', 'eths', 'eth0'], unset: true }, { path: ['network', 'eths', 'eth0'], unset: true },
    ]);
    const text = applyEdits(WINXP, [...edits, ...removeItemEdits(schemas, ['hardware', 'eths'], 'eth0')], order);
    assert.deepEqual(nicNames(treeOf(text)), ['eth2', 'eth1']);
  });

  test('a disk added and given a partition validates', () => {
    const add = addItemEdits(schemas, web, ['hardware', 'hdds'], '2GB');
    let text = applyEdits(WEB, add.edits, order);
    const part = addItemEdits(schemas, treeOf(text), ['hardware', 'hdds', add.name, 'partitions'], 'xfs');
    assert.deepEqual(part.edits, [{ path: ['hardware', 'hdds', 'hdd1', 'partitions', 'partition0', 'fs'], value: 'xfs' }]);
    text = applyEdits(text, part.edits, order);
    assert.equal(getAt(treeOf(text), ['hardware', 'hdds', 'hdd1', 'partitions', 'partition0', 'fs']), 'xfs');
    const parsed = schemaFor(catalogs).safeParse(treeOf(text));
    assert.ok(parsed.success, show(parsed.error?.issues));
  });
});

describe('itemKeys: what an item shows at once', () => {
  test('a disk: size, controller, table and partitions; the rest under "more"', () => {
    const k = itemKeys(schemas, ['hardware', 'hdds', 'hdd0'], treeOf(WEB));
    assert.deepEqual(k.primary, ['size', 'type', 'table', 'partitions']);
    assert.deepEqual([...k.primary, ...k.more].sort(), sectionKeys(schemas, ['hardware', 'hdds', 'hdd0']).sort(), 'every key once');
  });

  test('a NIC\'s addresses only once it is static', () => {
    const web = treeOf(WEB);
    assert.deepEqual(itemKeys(schemas, ['network', 'eths', 'eth0'], web).primary, ['type', 'address', 'network', 'gateway', 'dns']);
    const dhcp = treeOf(WEB.replace('type = static', 'type = dhcp'));
    assert.deepEqual(itemKeys(schemas, ['network', 'eths', 'eth0'], dhcp).primary, ['type']);
    assert.ok(itemKeys(schemas, ['network', 'eths', 'eth9'], dhcp).more.includes('address'), 'a NIC not in [network] yet');
  });
});

describe('applications offered for the chosen OS', () => {
  test('what Debian can install, with the file\'s choices checked', () => {
    const apps = appOffer(catalogs, findOs(catalogs, 'debian12-64')!);
    const devel = appChoices('devel', apps, treeOf(WEB));
    everyItem(devel, (a) => a.category === 'devel');
    assert.deepEqual(devel.filter((a) => a.checked).map((a) => a.name).sort(), ['git', 'vim']);
    assert.ok(!devel.some((a) => a.name === 'eclipse'), 'Debian has no Eclipse package: not offered');
    someItem(devel, (a) => a.name === 'emacs' && !a.checked, 'unchecked emacs');
  });

  test('what the file asks for but the OS cannot install is shown, with the reason', () => {
    const text = WEB.replace('    git = 1\n', '    git = 1\n    eclipse = 1\n');
    const eclipse = appChoices('devel', appOffer(catalogs, findOs(catalogs, 'debian12-64')!), treeOf(text)).find((a) => a.name === 'eclipse');
    assert.deepEqual({ checked: eclipse?.checked, available: eclipse?.available }, { checked: true, available: false });
    assert.match(eclipse?.reason ?? '', /not available/);
    const git = appChoices('devel', appOffer(catalogs, findOs(catalogs, 'debian12-64')!), treeOf(WEB)).find((a) => a.name === 'git');
    assert.ok(git && git.checked && git.available, 'git is a service in the catalog; under [devel], as the example has it, it is still offered');
    const unknown = appChoices('gui', [], treeOf('[gui]\n    nosuch = yes\n'));
    assert.deepEqual(unknown.map((a) => [a.name, a.checked, a.available]), [['nosuch', true, false]]);
  });

  test('ticking writes name = 1, unticking removes it', () => {
    assert.deepEqual(appEdit('services', 'nginx', true), { path: ['services', 'nginx'], value: '1' });
    assert.deepEqual(appEdit('services', 'nginx', false), { path: ['services', 'nginx'], unset: true });
  });
});

describe('fieldFor: where the page shows a diagnostic', () => {
  test('the field itself, else the nearest item or section shown', () => {
    const shown = new Set(['config.hostname', 'hardware.hdds', 'hardware.hdds.hdd0', 'config']);
    assert.equal(fieldFor(['config', 'hostname'], shown), 'config.hostname');
    assert.equal(fieldFor(['hardware', 'hdds', 'hdd0', 'partitions', 'root', 'fs'], shown), 'hardware.hdds.hdd0');
    assert.equal(fieldFor(['config', 'colour'], shown), 'config');
    assert.equal(fieldFor(['users'], shown), undefined);
    assert.equal(fieldFor(undefined, shown), undefined);
  });
});

describe('SseParser', () => {
  const STREAM = 'retry: 2000\n\nid: 1\nevent: log\ndata: line one\n\n: ping\n\nevent: update\ndata: {"a":\ndata: 1}\n\r\nid: 2\r\nevent: log\r\ndata:  two spaces\r\n\r\ndata: plain\n\n';
  const EXPECTED: SseEvent[] = [
    { event: 'log', data: 'line one', id: '1' },
    { event: 'update', data: '{"a":\n1}', id: '1' },
    { event: 'log', data: ' two spaces', id: '2' },
    { event: 'message', data: 'plain', id: '2' },
  ];

  test('events, comments, multi-line data, CRLF', () => {
    assert.deepEqual(new SseParser().push(STREAM), EXPECTED);
  });

  test('however the stream is cut into chunks', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 12 }), (cuts) => {
      const p = new SseParser();
      const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
      const events = points.slice(1).flatMap((end, i) => p.push(STREAM.slice(points[i], end)));
      assert.deepEqual(events, EXPECTED);
    }), { numRuns: 200 });
  });
});

describe('the form\'s words: items by what they hold, places by field and step', () => {
  const web = treeOf(WEB);
  test('items are titled by their content, by their key only while they hold nothing to name them by', () => {
    assert.equal(itemTitle(schemas, web, ['users', 'users'], 'user0'), 'User caesar');
    assert.equal(itemTitle(schemas, web, ['users', 'groups'], 'group1'), 'Group vmg');
    assert.equal(itemTitle(schemas, web, ['network', 'open_ports'], 'http'), 'Port 80/tcp');
    assert.equal(itemTitle(schemas, web, ['hardware', 'hdds'], 'hdd0'), 'Disk 1: 4 GB');
    assert.equal(itemTitle(schemas, web, ['hardware', 'hdds', 'hdd0', 'partitions'], 'root'), 'Partition 1: ext4 on /');
    assert.equal(itemTitle(schemas, web, ['hardware', 'hdds', 'hdd0', 'partitions'], 'swap'), 'Partition 2: swap');
    assert.equal(itemTitle(schemas, {}, ['users', 'users'], 'user5'), 'User user5');
  });

  test('a place names the field, its item and its step', () => {
    assert.equal(placeInForm(schemas, web, ['config', 'root_passwd']), 'Root password, step 3');
    assert.equal(placeInForm(schemas, web, ['users', 'users', 'user0', 'passwd']), `User caesar: ${labelFor(schemas, ['users', 'users', 'user0', 'passwd'])}, step 4`);
    assert.equal(placeInForm(schemas, web, ['users', 'groups', 'group0']), 'Group julius, step 4');
    assert.equal(placeInForm(schemas, web, ['network', 'open_ports', 'ssh', 'port']), `Port 22/tcp: ${labelFor(schemas, ['network', 'open_ports', 'ssh', 'port'])}, step 5`);
    assert.equal(stepOf(schemas, ['hardware', 'os']), 1);
    assert.equal(stepOf(schemas, ['services', 'sshd']), 6);
  });

  test('a hint names the field, not the file\'s key = value', () => {
    const at = ['network', 'eths', 'eth0', 'address'];
    assert.equal(formHint(schemas, "add 'address = 192.168.1.2'", at), 'for example 192.168.1.2');
    assert.equal(formHint(schemas, "set 'type = static' to use it", ['network', 'eths', 'eth0', 'gateway']), 'set Addressing: static to use it');
    assert.equal(formHint(schemas, "add 'colour = red'", at), "add 'colour = red'", 'a key the form has no label for stays as written');
    assert.equal(formHint(schemas, 'use --target lxc', undefined), 'use the build target lxc');
  });

  test('a message loses the file\'s key it starts with, and a CLI flag becomes the form\'s control', () => {
    assert.equal(formMessage('hostname: \'web_1!\' is not a valid hostname', ['config', 'hostname']), '\'web_1!\' is not a valid hostname');
    assert.equal(formMessage('use --target vmware, qemu or virtualbox', undefined), 'use the build target vmware, qemu or virtualbox');
    assert.equal(formMessage('size: too small', ['config', 'hostname']), 'size: too small', 'another key is part of the message');
  });
});

describe('reviewOf: the machine before Build, and what looks unmeant', () => {
  test('the facts in the form\'s words, defaults named as such, ports with the closed rest', () => {
    const r = reviewOf(schemas, treeOf(WEB), 'LXC (lxc)');
    const facts = Object.fromEntries(r.facts);
    assert.equal(facts.Machine, 'web1, host name web1');
    assert.equal(facts.Memory, '1 GB');
    assert.equal(facts.Disks, 'Disk 1: 4 GB');
    assert.equal(facts.Network, 'eth0: static 192.168.1.2');
    assert.equal(facts.Users, 'caesar, vv');
    assert.equal(facts['Open ports'], '22/tcp, 80/tcp; every port not listed is closed');
    assert.deepEqual(r.warnings, []);
    assert.equal(Object.fromEntries(reviewOf(schemas, { hardware: { vm_id: 'x' } }, 'lxc').facts).CPUs, '1 (default)');
  });

  test('port 22 open with no SSH server, and an SSH server behind a closed port', () => {
    const noSshd = treeOf(WEB.replace('sshd = 1', 'sshd = 0'));
    assert.deepEqual(reviewOf(schemas, noSshd, 'lxc').warnings, ['Port 22/tcp is open, but the machine has no SSH server (Applications: sshd): nothing will answer there.']);
    const closed = treeOf(WEB.replace(/port = 22/, 'port = 2222'));
    assert.match(reviewOf(schemas, closed, 'lxc').warnings.join('\n'), /An SSH server is installed, but port 22 is not open/);
  });
});

describe('one place per thing: a network adapter is its card and its addresses', () => {
  const web = treeOf(WEB);
  const steps = layout(schemas);
  const stepWith = (path: string): string | undefined => steps.find((st) => st.items.some((i) => i.kind === 'field' && [i.path, ...(i.also ?? [])].some((p) => p.join('.') === path)))?.id;

  test('both halves are placed in the network step, none in hardware', () => {
    assert.equal(stepWith('hardware.eths'), 'network');
    assert.equal(stepWith('network.eths'), 'network');
    const hardware = steps.find((st) => st.id === 'hardware')!;
    assert.ok(!hardware.items.some((i) => i.kind !== 'target' && i.path.join('.').startsWith('hardware.eths')), 'no NIC field in the hardware step');
    assert.deepEqual(recordSpec(schemas, ['hardware', 'eths']).joined?.('eth1'), ['network', 'eths', 'eth1']);
  });

  test('a message about either half names the adapter by what it is, in the network step', () => {
    assert.equal(itemTitle(schemas, web, ['hardware', 'eths'], 'eth0'), 'Network adapter eth0 (192.168.1.2)');
    assert.equal(itemTitle(schemas, { network: { eths: { eth3: { type: 'dhcp' } } } }, ['network', 'eths'], 'eth3'), 'Network adapter eth3 (DHCP)');
    assert.equal(placeInForm(schemas, web, ['network', 'eths', 'eth0', 'address']), 'Network adapter eth0 (192.168.1.2): IPv4 address, step 5');
    assert.equal(placeInForm(schemas, web, ['hardware', 'eths', 'eth0', 'type']), 'Network adapter eth0 (192.168.1.2): Connection to the host, step 5');
  });

  test('the machine\'s gateway and DNS and an adapter\'s own say which they are', () => {
    assert.match(labelFor(schemas, ['network', 'gateway']), /of the machine/);
    assert.match(labelFor(schemas, ['network', 'dns']), /of the machine/);
    assert.match(labelFor(schemas, ['network', 'eths', 'eth0', 'gateway']), /of this adapter/);
    assert.match(labelFor(schemas, ['network', 'eths', 'eth0', 'dns']), /of this adapter/);
  });
});

describe('choices: one spelling each', () => {
  test('a NIC\'s connection offers nat, bridged and host-only; the seed\'s other spellings are known as the same', () => {
    const type = spec('hardware.eths.eth0.type');
    assert.deepEqual(type.options, ['nat', 'bridged', 'host-only']);
    assert.deepEqual(type.aliases, { bridge: 'bridged', hostonly: 'host-only' });
    assert.equal(spec('network.eths.eth0.type').aliases, undefined, 'a choice without other spellings has none');
  });
});

describe('a user\'s groups: a checklist of the defined groups', () => {
  const tree: Tree = { users: { groups: { group0: 'staff', group1: 'students', group2: 'staff' }, users: { user0: { name: 'ana', groups: ['students', 'sudo'] } } } };
  const at = ['users', 'users', 'user0', 'groups'];

  test('each defined group once, checked when the user has it; the others kept as typed', () => {
    assert.deepEqual(groupChoices(schemas, tree, at), { defined: [{ name: 'staff', checked: false }, { name: 'students', checked: true }], others: ['sudo'] });
    assert.deepEqual(groupChoices(schemas, { users: { users: { user0: { name: 'x', groups: 'a, b' } } } }, at), { defined: [], others: ['a', 'b'] });
  });

  test('the edit: checked groups then the others, one value as a plain string, none removes the key', () => {
    assert.deepEqual(groupsEdit(at, ['staff', 'students'], 'sudo, audio'), { path: at, value: ['staff', 'students', 'sudo', 'audio'] });
    assert.deepEqual(groupsEdit(at, ['staff'], ' '), { path: at, value: 'staff' });
    assert.deepEqual(groupsEdit(at, [], ''), { path: at, unset: true });
    assert.deepEqual(groupsEdit(at, ['staff'], 'staff'), { path: at, value: 'staff' }, 'no group twice');
  });

  test('the edit reads back through the text as the checklist it came from', () => {
    const text = applyEdits(WEB, [groupsEdit(['users', 'users', 'user0', 'groups'], ['julius'], 'sudo')], order);
    const back = groupChoices(schemas, treeOf(text), ['users', 'users', 'user0', 'groups']);
    assert.deepEqual(back.defined.filter((g) => g.checked).map((g) => g.name), ['julius']);
    assert.deepEqual(back.others, ['sudo']);
  });
});
