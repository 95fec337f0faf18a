import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runItText } from '../../src/cli/run-it.js';

describe('vmgen build: "Run it:" after the archive', () => {
  it('each command indented, after a comment saying what it does, so the block pastes into a shell', () => {
    const text = runItText([
      { what: 'load the image web1:latest', command: 'podman load -i /srv/out/web1-oci.tar' },
      { what: 'start it', command: 'podman run -d --name web1 web1:latest' },
    ]);
    assert.equal(text, 'Run it:\n  # load the image web1:latest\n  podman load -i /srv/out/web1-oci.tar\n  # start it\n  podman run -d --name web1 web1:latest\n');
  });

  it('nothing when there are no commands', () => assert.equal(runItText([]), ''));
});
