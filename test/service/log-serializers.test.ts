import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import { REQUEST_LOG_SERIALIZERS, redactUrl } from '../../src/service/log-serializers.js';

describe('the request log', () => {
  it('blanks a download link\'s signature wherever it sits in the query, and nothing else', () => {
    assert.equal(redactUrl('/download/abc?expires=1&sig=c2lnbmF0dXJl'), '/download/abc?expires=1&sig=<redacted>');
    assert.equal(redactUrl('/download/abc?sig=AAA&expires=1'), '/download/abc?sig=<redacted>&expires=1');
    assert.equal(redactUrl('/api/builds?state=queued'), '/api/builds?state=queued');
    assert.equal(redactUrl('/api/builds/x?design=1'), '/api/builds/x?design=1', 'a parameter that only ends in "sig" stays');
  });

  it('is what a fastify app logs with the service\'s logger', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const app = Fastify({ loggerInstance: pino({ serializers: REQUEST_LOG_SERIALIZERS }, sink) });
    app.get('/download/:id', async () => 'bytes');
    await app.inject({ url: '/download/abc?expires=1&sig=SECRET-SIGNATURE' });
    await app.close();
    const logged = lines.join('');
    assert.match(logged, /"url":"\/download\/abc\?expires=1&sig=<redacted>"/);
    assert.doesNotMatch(logged, /SECRET-SIGNATURE/);
  });
});
