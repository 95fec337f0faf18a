import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import {
  type Check,
  broadcastAddress,
  checkGuestAbsolutePath,
  checkHostname,
  checkPosixName,
  checkSafeRelativeName,
  checkWindowsAccountName,
  checkWindowsComputerName,
  didYouMean,
  formatIPv4,
  ipInSubnet,
  isRfc1123Hostname,
  isUnicastMac,
  isUsableHost,
  isVmwareStaticMac,
  levenshtein,
  networkAddress,
  parseBool,
  parseCidr,
  parseIPv4,
  parseIntInRange,
  parseMac,
  parseNetmask,
  parsePortSpec,
  parseSize,
  prefixToNetmask,
  quote,
} from '../../src/config/validators.js';

type Expect = string | RegExp;

function acceptsAll<T>(name: string, fn: (s: string) => Check<T>, cases: ReadonlyArray<readonly [string, T]>): void {
  for (const [input, expected] of cases) {
    it(`${name} accepts ${JSON.stringify(input)}`, () => {
      const r = fn(input);
      assert.ok(r.ok, `expected ok, got: ${r.ok ? '' : r.message}`);
      assert.deepEqual(r.value, expected);
    });
  }
}

/** Each case names a fragment the message must contain, so tests pin what the user is told. */
function rejectsAll<T>(
  name: string,
  fn: (s: string) => Check<T>,
  cases: ReadonlyArray<readonly [string, Expect] | readonly [string, Expect, Expect]>,
): void {
  for (const [input, message, hint] of cases) {
    it(`${name} rejects ${JSON.stringify(input)}`, () => {
      const r = fn(input);
      assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
      if (r.ok) return;
      if (typeof message === 'string') assert.ok(r.message.includes(message), `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(message)}`);
      else assert.match(r.message, message);
      if (hint !== undefined) {
        assert.ok(r.hint !== undefined, 'expected a hint');
        if (typeof hint === 'string') assert.ok(r.hint.includes(hint), `hint ${JSON.stringify(r.hint)} lacks ${JSON.stringify(hint)}`);
        else assert.match(r.hint, hint);
      }
      // Messages start lower-case (or with the quoted input) so they read well after "error: ".
      assert.doesNotMatch(r.message, /^[A-Z]/);
    });
  }
}

describe('quote', () => {
  it('escapes control characters and cuts long values', () => {
    assert.equal(quote('a\nb\0'), "'a\\nb\\x00'");
    const q = quote('x'.repeat(200));
    assert.ok(q.length < 70, `${q.length} characters: ${q}`);
    assert.ok(q.endsWith("…'"), q);
  });
});

describe('parseIPv4 / formatIPv4', () => {
  acceptsAll('parseIPv4', parseIPv4, [
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['192.168.1.10', 0xc0a8010a],
    ['10.0.0.1', 0x0a000001],
    ['1.2.3.4', 0x01020304],
  ]);
  rejectsAll('parseIPv4', parseIPv4, [
    ['256.1.1.1', "'256.1.1.1' is not an IPv4 address: octet 1 is 256 (max 255)"],
    ['1.2.3.999', 'octet 4 is 999 (max 255)'],
    ['1.2.3.1000', 'octet 4 is 1000 (max 255)'],
    ['01.2.3.4', /octet 1 \('01'\) has a leading zero.*octal/],
    ['10.0.00.1', /octet 3 .*leading zero/],
    ['1.2.3', 'it has 3 parts'],
    ['1.2.3.4.5', 'it has 5 parts'],
    ['1.2..4', 'octet 3 is empty'],
    ['1.2.3.', 'octet 4 is empty'],
    ['a.b.c.d', "octet 1 ('a') is not a decimal number"],
    ['1.2.3.-4', 'octet 4'],
    ['0x7f.0.0.1', 'not a decimal number'],
    [' 1.2.3.4', 'whitespace'],
    ['1.2.3.4 ', 'whitespace'],
    ['1. 2.3.4', 'whitespace'],
    ['', 'it is empty'],
    ['localhost', 'it has 1 part'],
    ['1.2.3.4/24', 'not a decimal number'],
    ['١.2.3.4', 'not a decimal number'],
  ]);
  it('formats', () => {
    assert.equal(formatIPv4(0), '0.0.0.0');
    assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
    assert.equal(formatIPv4(0xc0a8010a), '192.168.1.10');
  });
  it('refuses non-uint32 numbers', () => {
    assert.throws(() => formatIPv4(-1), RangeError);
    assert.throws(() => formatIPv4(2 ** 32), RangeError);
    assert.throws(() => formatIPv4(1.5), RangeError);
  });
  it('round-trips every uint32 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const text = formatIPv4(n);
        const r = parseIPv4(text);
        return r.ok && r.value === n && formatIPv4(r.value) === text;
      }),
      { numRuns: 2000 },
    );
  });
  it('never throws on arbitrary strings (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof parseIPv4(s).ok === 'boolean'));
  });
});

describe('parseNetmask', () => {
  acceptsAll('parseNetmask', parseNetmask, [
    ['255.255.255.0', 24],
    ['255.255.255.255', 32],
    ['0.0.0.0', 0],
    ['255.255.255.252', 30],
    ['255.128.0.0', 9],
    ['/24', 24],
    ['24', 24],
    ['/0', 0],
    ['32', 32],
    ['8', 8],
  ]);
  rejectsAll('parseNetmask', parseNetmask, [
    ['255.0.255.0', "'255.0.255.0' is not a netmask: its one-bits are not contiguous", 'did you mean 255.0.0.0 (/8)?'],
    ['255.255.255.1', 'not contiguous', '255.255.255.0 (/24)'],
    ['0.255.255.255', 'not contiguous', '0.0.0.0 (/0)'],
    ['255.255.256.0', 'octet 3 is 256 (max 255)'],
    ['255.255.255', 'it has 3 parts'],
    ['/33', 'prefix length 33 is out of range (0-32)'],
    ['33', 'out of range'],
    ['/-1', 'expected a dotted mask'],
    ['/', 'expected a dotted mask'],
    ['', 'it is empty'],
    ['abc', 'expected a dotted mask like 255.255.255.0 or a prefix length like /24'],
    ['/ 24', 'whitespace'],
    ['24/', 'expected a dotted mask'],
  ]);
  it('reads every prefix back from its dotted form (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 32 }), (p) => {
        const r = parseNetmask(formatIPv4(prefixToNetmask(p)));
        return r.ok && r.value === p;
      }),
    );
    for (let p = 0; p <= 32; p++) assert.deepEqual(parseNetmask(formatIPv4(prefixToNetmask(p))), { ok: true, value: p });
  });
  it('rejects every non-contiguous mask (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (m) => {
        const contiguous = Array.from({ length: 33 }, (_, p) => prefixToNetmask(p)).includes(m);
        return parseNetmask(formatIPv4(m)).ok === contiguous;
      }),
    );
  });
});

describe('parseCidr', () => {
  acceptsAll('parseCidr', parseCidr, [
    ['192.168.1.2/24', { address: 0xc0a80102, prefix: 24 }],
    ['10.0.0.0/8', { address: 0x0a000000, prefix: 8 }],
    ['0.0.0.0/0', { address: 0, prefix: 0 }],
    ['10.1.2.3/32', { address: 0x0a010203, prefix: 32 }],
    ['192.168.1.2/255.255.255.0', { address: 0xc0a80102, prefix: 24 }],
  ]);
  rejectsAll('parseCidr', parseCidr, [
    ['192.168.1.2', "the '/prefix' part is missing (like 192.168.1.2/24)"],
    ['192.168.1.2/', 'the prefix length after'],
    ['192.168.1.2/33', 'prefix length 33 is out of range'],
    ['192.168.1.2/24/8', "more than one '/'"],
    ['192.168.1.256/24', 'octet 4 is 256'],
    ['/24', 'the address is empty'],
    ['192.168.1.2/255.0.255.0', 'not contiguous', 'did you mean 255.0.0.0'],
    ['', 'it is empty'],
    ['192.168.1.2 /24', 'whitespace'],
  ]);
});

describe('subnet arithmetic', () => {
  const ip = (s: string): number => {
    const r = parseIPv4(s);
    assert.ok(r.ok, `${s}: ${r.ok ? '' : r.message}`);
    return r.value;
  };
  const cases: ReadonlyArray<readonly [string, number, string, string]> = [
    ['192.168.1.77', 24, '192.168.1.0', '192.168.1.255'],
    ['10.20.30.40', 8, '10.0.0.0', '10.255.255.255'],
    ['172.16.5.4', 12, '172.16.0.0', '172.31.255.255'],
    ['192.168.1.77', 32, '192.168.1.77', '192.168.1.77'],
    ['192.168.1.77', 0, '0.0.0.0', '255.255.255.255'],
    ['192.168.1.5', 30, '192.168.1.4', '192.168.1.7'],
  ];
  for (const [addr, prefix, net, bcast] of cases) {
    it(`${addr}/${prefix} → network ${net}, broadcast ${bcast}`, () => {
      assert.equal(formatIPv4(networkAddress(ip(addr), prefix)), net);
      assert.equal(formatIPv4(broadcastAddress(ip(addr), prefix)), bcast);
    });
  }
  it('ipInSubnet', () => {
    assert.equal(ipInSubnet(ip('192.168.1.200'), ip('192.168.1.0'), 24), true);
    assert.equal(ipInSubnet(ip('192.168.2.1'), ip('192.168.1.0'), 24), false);
    assert.equal(ipInSubnet(ip('192.168.2.1'), ip('192.168.1.0'), 16), true);
    assert.equal(ipInSubnet(ip('8.8.8.8'), ip('10.0.0.0'), 0), true);
    assert.equal(ipInSubnet(ip('10.0.0.1'), ip('10.0.0.1'), 32), true);
    assert.equal(ipInSubnet(ip('10.0.0.2'), ip('10.0.0.1'), 32), false);
    // The network argument may carry host bits (a gateway address, say).
    assert.equal(ipInSubnet(ip('192.168.1.200'), ip('192.168.1.1'), 24), true);
  });
  it('isUsableHost', () => {
    assert.equal(isUsableHost(ip('192.168.1.0'), 24), false);
    assert.equal(isUsableHost(ip('192.168.1.255'), 24), false);
    assert.equal(isUsableHost(ip('192.168.1.1'), 24), true);
    assert.equal(isUsableHost(ip('192.168.1.254'), 24), true);
    assert.equal(isUsableHost(ip('192.168.1.4'), 30), false);
    assert.equal(isUsableHost(ip('192.168.1.5'), 30), true);
    assert.equal(isUsableHost(ip('192.168.1.4'), 31), true);
    assert.equal(isUsableHost(ip('192.168.1.5'), 31), true);
    assert.equal(isUsableHost(ip('192.168.1.4'), 32), true);
  });
  it('prefixToNetmask', () => {
    assert.equal(formatIPv4(prefixToNetmask(0)), '0.0.0.0');
    assert.equal(formatIPv4(prefixToNetmask(1)), '128.0.0.0');
    assert.equal(formatIPv4(prefixToNetmask(24)), '255.255.255.0');
    assert.equal(formatIPv4(prefixToNetmask(32)), '255.255.255.255');
    assert.throws(() => prefixToNetmask(33), RangeError);
  });
  it('network contains the address and lies between network and broadcast (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, p) => {
        const n = networkAddress(a, p);
        const b = broadcastAddress(a, p);
        return n <= a && a <= b && ipInSubnet(a, n, p) && b - n === 2 ** (32 - p) - 1;
      }),
    );
  });
});

describe('MAC addresses', () => {
  acceptsAll('parseMac', parseMac, [
    ['00:50:56:00:00:01', '00:50:56:00:00:01'],
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'],
    ['02-00-De-Ad-Be-Ef', '02:00:de:ad:be:ef'],
  ]);
  rejectsAll('parseMac', parseMac, [
    ['', 'it is empty'],
    ['aa:bb:cc:dd:ee', 'it has 5 groups'],
    ['aa:bb:cc:dd:ee:ff:00', 'it has 7 groups'],
    ['aa:bb-cc:dd:ee:ff', "mixes ':' and '-'"],
    ['aabbccddeeff', 'six two-digit hex groups'],
    ['a:bb:cc:dd:ee:ff', "group 1 ('a') is not two hex digits"],
    ['aa:bb:cc:dd:ee:fg', "group 6 ('fg') is not two hex digits"],
    ['aa:bb:cc:dd:ee:', "group 6 ('') is not two hex digits"],
    ['aa:bb:cc:dd:ee:ff ', 'whitespace'],
  ]);
  acceptsAll('isUnicastMac', isUnicastMac, [
    ['02:00:de:ad:be:ef', '02:00:de:ad:be:ef'],
    ['00:50:56:00:00:01', '00:50:56:00:00:01'],
    ['FE-00-00-00-00-01', 'fe:00:00:00:00:01'],
  ]);
  rejectsAll('isUnicastMac', isUnicastMac, [
    [
      '01:00:de:ad:be:ef',
      "'01:00:de:ad:be:ef' is a multicast MAC address",
      'use a locally administered unicast address such as 02:00:de:ad:be:ef',
    ],
    ['33:33:00:00:00:01', 'multicast', '02:00:de:ad:be:ef'],
    ['ff:ff:ff:ff:ff:ff', 'broadcast', '02:00:de:ad:be:ef'],
    ['00:00:00:00:00:00', 'all-zero'],
    ['zz:00:de:ad:be:ef', 'is not a MAC address'],
  ]);
  acceptsAll('isVmwareStaticMac', isVmwareStaticMac, [
    ['00:50:56:00:00:00', '00:50:56:00:00:00'],
    ['00:50:56:3F:FF:FF', '00:50:56:3f:ff:ff'],
    ['00-50-56-12-34-56', '00:50:56:12:34:56'],
  ]);
  rejectsAll('isVmwareStaticMac', isVmwareStaticMac, [
    ['00:50:56:40:00:00', 'the fourth octet is 40 (max 3f)', 'use an address such as 00:50:56:00:00:00'],
    ['00:50:56:ff:12:34', 'fourth octet is ff', '00:50:56:3f:12:34'],
    ['00:0c:29:12:34:56', 'only from 00:50:56:00:00:00 to 00:50:56:3f:ff:ff', 'use an address such as 00:50:56:00:34:56'],
    ['02:00:de:ad:be:ef', 'is not a VMware static MAC address', /00:50:56:[0-3][0-9a-f]:/],
    ['nope', 'is not a MAC address'],
  ]);
  it('every VMware static hint is itself accepted (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const mac = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
        const r = isVmwareStaticMac(mac);
        if (r.ok) return true;
        const suggested = /00:50:56:[0-9a-f:]{8}/.exec(r.hint ?? '')?.[0];
        return suggested !== undefined && isVmwareStaticMac(suggested).ok;
      }),
    );
  });
});

describe('parsePortSpec', () => {
  acceptsAll('parsePortSpec', parsePortSpec, [
    ['22', { from: 22, to: 22 }],
    ['1', { from: 1, to: 1 }],
    ['65535', { from: 65535, to: 65535 }],
    ['1000-2000', { from: 1000, to: 2000 }],
    ['1000:2000', { from: 1000, to: 2000 }],
    ['80-80', { from: 80, to: 80 }],
  ]);
  rejectsAll('parsePortSpec', parsePortSpec, [
    ['0', 'port 0 is out of range (1-65535)'],
    ['65536', 'port 65536 is out of range (1-65535)'],
    ['2000-1000', '2000 is greater than 1000', 'write the lower port first, like 1000-2000'],
    ['1000-', 'a port number is missing'],
    ['-22', 'a port number is missing'],
    ['1-2-3', "two ports joined by '-' or ':'"],
    ['ssh', "'ssh' is not a port number"],
    ['22 ', 'whitespace'],
    ['1000 - 2000', 'whitespace'],
    ['', 'it is empty'],
    ['22.5', 'is not a port number'],
    ['99999999999999999999999', 'out of range'],
  ]);
  it('never throws on arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('1', '0', '9', '-', ':', ' ', '6', '5') })), (s) => {
        const r = parsePortSpec(s);
        return r.ok ? r.value.from >= 1 && r.value.from <= r.value.to && r.value.to <= 65535 : r.message.length > 0;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hostnames', () => {
  acceptsAll('checkHostname', checkHostname, [
    ['web', 'web'],
    ['Web-01', 'Web-01'],
    ['a', 'a'],
    ['1host', '1host'],
    ['db.example.com', 'db.example.com'],
    ['x'.repeat(63), 'x'.repeat(63)],
    [Array(4).fill('y'.repeat(62)).join('.'), Array(4).fill('y'.repeat(62)).join('.')],
  ]);
  rejectsAll('checkHostname', checkHostname, [
    ['a;reboot', "'a;reboot' is not a valid hostname: ';' is not allowed (letters, digits and '-' only)"],
    ['my host', "a space is not allowed"],
    ['my_host', "'_' is not allowed", "use '-' instead"],
    ['-web', "label '-web' starts with '-'"],
    ['web-', "label 'web-' ends with '-'"],
    ['a.-b.c', "label '-b' starts with '-'"],
    ['a..b', 'empty label'],
    ['.a', "starts with '.'"],
    ['a.', "ends with '.'"],
    ['', 'it is empty'],
    ['x'.repeat(64), 'is 64 characters long (max 63)'],
    [Array(5).fill('y'.repeat(62)).join('.'), 'is 314 characters long (max 253)'],
    ['héllo', "'é' is not allowed"],
    ['a\nb', 'a line break is not allowed'],
  ]);
  it('isRfc1123Hostname agrees with checkHostname', () => {
    assert.equal(isRfc1123Hostname('db.example.com'), true);
    assert.equal(isRfc1123Hostname('A-1'), true);
    assert.equal(isRfc1123Hostname('a;reboot'), false);
    assert.equal(isRfc1123Hostname('-x'), false);
    assert.equal(isRfc1123Hostname(''), false);
  });
});

describe('checkPosixName', () => {
  const user = (s: string): Check<string> => checkPosixName(s, 'user');
  const group = (s: string): Check<string> => checkPosixName(s, 'group');
  acceptsAll('checkPosixName(user)', user, [
    ['alice', 'alice'],
    ['_apt', '_apt'],
    ['svc-backup_2', 'svc-backup_2'],
    ['host$', 'host$'],
    ['a'.repeat(32), 'a'.repeat(32)],
  ]);
  acceptsAll('checkPosixName(group)', group, [['sudo', 'sudo']]);
  rejectsAll('checkPosixName(user)', user, [
    ['', 'user name is empty'],
    ['..', "'..' is not a valid user name: '.' and '..' are reserved"],
    ['.', 'reserved'],
    ['a/b', "'/' is not allowed"],
    ['../etc', "'/' is not allowed"],
    ['-rf', "starts with '-'"],
    ['1abc', 'starts with a digit'],
    ['Alice', "upper-case 'A' is not allowed", "use 'alice'"],
    ['al ice', 'a space is not allowed'],
    ['a.b', "'.' is not allowed (lower-case letters, digits, '_' and '-' only)"],
    ['a$b', "'$' is only allowed as the last character"],
    ['$', "starts with '$'"],
    ['a;reboot', "';' is not allowed"],
    ['a'.repeat(33), 'is 33 characters long (max 32)'],
  ]);
  rejectsAll('checkPosixName(group)', group, [['Wheel', "'Wheel' is not a valid group name"]]);
  it('accepts exactly what Debian NAME_REGEX and the 32-char limit accept (property)', () => {
    const re = /^[a-z_][a-z0-9_-]*[$]?$/;
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a', 'Z', '_', '-', '$', '0', '.', '/') })), (s) =>
        user(s).ok === (re.test(s) && s.length <= 32),
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Windows names', () => {
  const wuser = (s: string): Check<string> => checkWindowsAccountName(s, 'user');
  const wgroup = (s: string): Check<string> => checkWindowsAccountName(s, 'group');
  acceptsAll('checkWindowsAccountName(user)', wuser, [
    ['Administrator', 'Administrator'],
    ['john.smith', 'john.smith'],
    ['John Smith', 'John Smith'],
    ['u'.repeat(20), 'u'.repeat(20)],
  ]);
  acceptsAll('checkWindowsAccountName(group)', wgroup, [
    ['Remote Desktop Users', 'Remote Desktop Users'],
    ['g'.repeat(256), 'g'.repeat(256)],
  ]);
  rejectsAll('checkWindowsAccountName(user)', wuser, [
    ['', 'user name is empty (expected 1-20 characters)'],
    ['u'.repeat(21), 'is 21 characters long (max 20)'],
    ['a@b', "'@' is not allowed"],
    ['dom\\user', "'\\' is not allowed"],
    ['a,b', "',' is not allowed"],
    ['a*', "'*' is not allowed"],
    ['a"b', `'"' is not allowed`],
    ['[x]', "'[' is not allowed"],
    ['a\tb', 'a tab is not allowed'],
    ['...', 'only of dots and spaces'],
    [' . ', 'only of dots and spaces'],
    ['john.', "ends with '.'"],
  ]);
  rejectsAll('checkWindowsAccountName(group)', wgroup, [
    ['g'.repeat(257), 'is 257 characters long (max 256)'],
    ['a|b', "'|' is not allowed"],
  ]);
  acceptsAll('checkWindowsComputerName', checkWindowsComputerName, [
    ['WIN-BUILD01', 'WIN-BUILD01'],
    ['desktop', 'desktop'],
    ['c'.repeat(15), 'c'.repeat(15)],
    ['1a', '1a'],
  ]);
  rejectsAll('checkWindowsComputerName', checkWindowsComputerName, [
    ['', 'computer name is empty'],
    ['c'.repeat(16), 'is 16 characters long (max 15'],
    ['my pc', 'a space is not allowed'],
    ['pc.example.com', "'.' is not allowed", 'single label'],
    ['pc_1', "'_' is not allowed"],
    ['pc#1', "'#' is not allowed"],
    ['pc~', "'~' is not allowed"],
    ["bob's", "''' is not allowed"],
    ['12345', 'it is all digits'],
  ]);
});

describe('paths', () => {
  acceptsAll('checkSafeRelativeName', checkSafeRelativeName, [
    ['file.txt', 'file.txt'],
    ['.bashrc', '.bashrc'],
    ['a/b/c', 'a/b/c'],
    ['a..b', 'a..b'],
    ['..hidden', '..hidden'],
    ['dir\\file', 'dir\\file'],
  ]);
  rejectsAll('checkSafeRelativeName', checkSafeRelativeName, [
    ['', 'name is empty'],
    ['.', "'.' segment"],
    ['..', "'..' would leave the directory"],
    ['../x', "'../x' is not a safe relative name: '..' would leave the directory"],
    ['a/../../x', "'..' would leave"],
    ['a\\..\\x', "'..' would leave"],
    ['/etc/passwd', 'absolute path'],
    ['\\\\server\\share', 'absolute path'],
    ['C:\\x', 'drive letter'],
    ['c:x', 'drive letter'],
    ['a\0b', 'NUL'],
    ['a\nb', 'a line break'],
    ['a\x1bb', 'control character \\x1b'],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['./a', "'.' segment"],
    ['...', 'made only of dots'],
  ]);
  it('never accepts a name that normalizes to /root or outside it (property)', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '', 'a', '...', 'b.c', '\\..'),
      fc.string({ maxLength: 4 }),
    );
    const candidate = fc.oneof(
      fc.string(),
      fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('/')),
      fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('\\')),
    );
    fc.assert(
      fc.property(candidate, (s) => {
        if (!checkSafeRelativeName(s).ok) return true;
        const joined = path.posix.normalize(`/root/${s}`);
        return joined.startsWith('/root/') && joined !== '/root/' && path.win32.normalize(`C:\\root\\${s}`).startsWith('C:\\root\\');
      }),
      { numRuns: 5000 },
    );
  });

  acceptsAll('checkGuestAbsolutePath', checkGuestAbsolutePath, [
    ['/home/x', '/home/x'],
    ['/', '/'],
    ['/opt/app/', '/opt/app/'],
    ['/srv/my data/.cache', '/srv/my data/.cache'],
  ]);
  rejectsAll('checkGuestAbsolutePath', checkGuestAbsolutePath, [
    ['', 'guest path is empty'],
    ['home/x', "it must be absolute (start with '/')", 'for example /home/x'],
    ['./x', 'must be absolute', 'for example /x'],
    ['/home/../etc', "'..' segment"],
    ['/home/x/..', "'..' segment"],
    ['/home//x', "'//'"],
    ['//home', "'//'"],
    ['/home/./x', "'.' segment"],
    ['/home/x\0', 'NUL'],
    ['/home/\x07x', 'control character \\x07'],
    ['C:\\Users\\x', "'\\' is not a path separator"],
  ]);
  it('accepted guest paths are already normalized (property)', () => {
    const seg = fc.constantFrom('..', '.', '', 'home', 'x', '...');
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 6 }), (parts) => {
        const s = `/${parts.join('/')}`;
        if (!checkGuestAbsolutePath(s).ok) return true;
        const n = path.posix.normalize(s);
        return n === s || `${n}/` === s || n === `${s}/`;
      }),
    );
  });
});

describe('parseSize', () => {
  const mb = (s: string): Check<number> => parseSize(s, 'MB');
  const gb = (s: string): Check<number> => parseSize(s, 'GB');
  const bytes = (s: string): Check<number> => parseSize(s, 'B');
  acceptsAll('parseSize(MB)', mb, [
    ['512', 512],
    ['5000', 5000],
    ['8GB', 8192],
    ['8 GB', 8192],
    ['8G', 8192],
    ['8g', 8192],
    ['8GiB', 8192],
    ['512MB', 512],
    ['512M', 512],
    ['512MiB', 512],
    ['1.5GB', 1536],
    ['2TB', 2 * 1024 * 1024],
    ['1024KB', 1],
    ['1025KB', 2],
    ['1K', 1],
    ['0.1MB', 1],
    ['100B', 1],
    [' 8GB ', 8192],
    ['.5G', 512],
  ]);
  acceptsAll('parseSize(GB)', gb, [
    ['8', 8192],
    ['8MB', 8],
    ['0.5', 512],
  ]);
  acceptsAll('parseSize(B)', bytes, [
    ['1048576', 1],
    ['1048577', 2],
    ['4GB', 4096],
  ]);
  const HINT = 'use a number with a unit, like 8GB or 512MB';
  rejectsAll('parseSize(MB)', mb, [
    ['', 'size is empty', HINT],
    ['-8GB', 'it is negative', HINT],
    ['-1', 'negative', HINT],
    ['0', 'it is zero', HINT],
    ['0GB', 'zero', HINT],
    ['lots', 'expected a number', HINT],
    ['8 PB', "unknown unit 'PB'", HINT],
    ['8 gigs', "unknown unit 'gigs'", HINT],
    ['8GB8', 'expected a number', HINT],
    ['1,5GB', 'expected a number', HINT],
    ['1e3', 'expected a number', HINT],
    ['8 G B', 'expected a number', HINT],
    ['0x10', 'expected a number', HINT],
    ['NaN', 'expected a number', HINT],
    ['Infinity', 'expected a number', HINT],
    ['9'.repeat(400), 'too large', HINT],
    ['9'.repeat(20) + 'TB', 'too large', HINT],
  ]);
  rejectsAll('parseSize(B)', bytes, [['1.5', 'a byte count must be a whole number', HINT]]);
  it('never throws on arbitrary strings (property)', () => {
    const sizeish = fc.string({ unit: fc.constantFrom('1', '0', '.', '-', ' ', 'G', 'B', 'i', 'M', 'k', 'e', '9') });
    fc.assert(
      fc.property(fc.oneof(fc.string(), sizeish), fc.constantFrom('MB' as const, 'GB' as const, 'B' as const), (s, unit) => {
        const r = parseSize(s, unit);
        return r.ok ? Number.isSafeInteger(r.value) && r.value >= 1 : r.hint === HINT;
      }),
      { numRuns: 3000 },
    );
  });
  it('agrees with the unit arithmetic for whole numbers (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100000 }), (n) => {
        const g = mb(`${n}GB`);
        const m = mb(`${n}MB`);
        const k = mb(`${n}KB`);
        return g.ok && g.value === n * 1024 && m.ok && m.value === n && k.ok && k.value === Math.ceil(n / 1024);
      }),
    );
  });
});

describe('parseBool', () => {
  acceptsAll('parseBool', parseBool, [
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['true', true],
    ['false', false],
    ['on', true],
    ['off', false],
    ['YES', true],
    ['False', false],
    ['On', true],
  ]);
  rejectsAll('parseBool', parseBool, [
    ['', 'expected yes/no, true/false, on/off or 1/0'],
    ['y', "'y' is not a yes/no value"],
    ['2', 'not a yes/no value'],
    [' yes', 'not a yes/no value'],
    ['enabled', 'not a yes/no value'],
  ]);
});

describe('parseIntInRange', () => {
  const cpus = (s: string): Check<number> => parseIntInRange(s, 1, 64);
  const offset = (s: string): Check<number> => parseIntInRange(s, -10, 10);
  acceptsAll('parseIntInRange(1..64)', cpus, [
    ['1', 1],
    ['64', 64],
    ['08', 8],
  ]);
  acceptsAll('parseIntInRange(-10..10)', offset, [
    ['-10', -10],
    ['0', 0],
    ['-0', 0],
  ]);
  rejectsAll('parseIntInRange(1..64)', cpus, [
    ['0', "'0' is out of range (expected a whole number from 1 to 64)"],
    ['65', 'out of range'],
    ['', 'value is empty'],
    ['1.0', 'is not a whole number'],
    ['1e2', 'is not a whole number'],
    ['0x10', 'is not a whole number'],
    ['+4', 'is not a whole number'],
    [' 4', 'is not a whole number'],
    ['four', 'is not a whole number'],
    ['9'.repeat(30), 'out of range'],
  ]);
});

describe('levenshtein', () => {
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['partition', 'partitions', 1],
    ['hostname', 'hsotname', 2],
    ['same', 'same', 0],
    ['héllo', 'hello', 1],
    ['😀a', 'a', 1],
  ];
  for (const [a, b, d] of cases) {
    it(`levenshtein(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${d}`, () => {
      assert.equal(levenshtein(a, b), d);
      assert.equal(levenshtein(b, a), d);
    });
  }
  it('is a metric bounded by the longer length (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b, c) => {
        const ab = levenshtein(a, b);
        return (
          ab === levenshtein(b, a) &&
          (ab === 0) === (a === b) &&
          ab <= Math.max(Array.from(a).length, Array.from(b).length) &&
          levenshtein(a, c) <= ab + levenshtein(b, c)
        );
      }),
    );
  });
});

describe('didYouMean', () => {
  const keys = ['partitions', 'hostname', 'memory', 'network', 'ram', 'cpus', 'disk_size', 'program', 'users'];
  const cases: ReadonlyArray<readonly [string, string | undefined]> = [
    ['partition', 'partitions'],
    ['Partitions', 'partitions'],
    ['hostnme', 'hostname'],
    ['hsotname', 'hostname'],
    ['HOSTNAME', 'hostname'],
    ['mem', 'memory'],
    ['netwrk', 'network'],
    ['rma', undefined], // transposition costs 2 > max(1, floor(3/3))
    ['ramm', 'ram'],
    ['cpu', 'cpus'],
    ['user', 'users'],
    ['name', 'hostname'],
    ['disksize', 'disk_size'],
    ['xyz', undefined],
    ['zzzzzzzzzz', undefined],
    ['', undefined],
    ['gram', 'ram'], // a one-letter typo beats containment in 'program'
    ['ogram', 'program'],
    ['am', 'ram'],
    ['zq', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`didYouMean(${JSON.stringify(input)}) → ${String(expected)}`, () => {
      assert.equal(didYouMean(input, keys), expected);
    });
  }
  it('prefers a typo match over a containment match', () => {
    assert.equal(didYouMean('disk', ['disk_size', 'disks']), 'disks');
  });
  it('accepts any iterable and an empty one', () => {
    assert.equal(didYouMean('hostnam', new Set(['hostname'])), 'hostname');
    assert.equal(didYouMean('hostnam', []), undefined);
    assert.equal(
      didYouMean('memroy', (function* () {
        yield 'memory';
      })()),
      'memory',
    );
  });
  it('returns only candidates, and finds an exact key regardless of case (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string({ minLength: 1 }), { maxLength: 8 }), (input, cands) => {
        const r = didYouMean(input, cands);
        if (r !== undefined && !cands.includes(r)) return false;
        const exact = cands.find((c) => c.toLowerCase() === input.toLowerCase());
        return exact === undefined || input === '' || (r !== undefined && r.toLowerCase() === input.toLowerCase());
      }),
    );
  });
});
