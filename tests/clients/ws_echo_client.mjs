// Echo check of a WebSocket server with the npm `ws` client (an implementation independent of
// upshift's). Usage: node ws_echo_client.mjs URL [--deflate] [--ca FILE]
// A wss:// URL runs the same checks over TLS; --ca FILE is the PEM certificate to trust (the
// server's own, for a self-signed one), and the certificate must name the URL's host.
// Sends text, binary, a 1 MiB binary and a 1 MiB text message, and a message sent as fragments
// (ws's `fin: false` sends continuation frames, RFC 6455 §5.4); checks every echo, pings, closes
// with 1000 (§7.1.2) and prints one JSON summary line. Exit 0 only if every check passed.
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';

const args = process.argv.slice(2);
const caAt = args.indexOf('--ca');
const caFile = caAt >= 0 ? args[caAt + 1] : undefined;
const url = args.find((a, i) => !a.startsWith('--') && !(caAt >= 0 && i === caAt + 1));
const deflate = args.includes('--deflate');
if (!url || (caAt >= 0 && !caFile)) {
    console.error('usage: node ws_echo_client.mjs URL [--deflate] [--ca FILE]');
    process.exit(2);
}

const summary = { url, perMessageDeflate: deflate, extensions: null, checks: [], ok: false };
const fail = (why) => {
    summary.error = String(why);
    console.log(JSON.stringify(summary));
    process.exit(1);
};
setTimeout(() => fail('timed out after 60 s'), 60_000).unref();

const options = { perMessageDeflate: deflate, maxPayload: 8 * 1024 * 1024 };
if (caFile) options.ca = readFileSync(caFile);  // verification stays on: only this CA is trusted
const ws = new WebSocket(url, options);
const queue = [];
let waiter = null;
ws.on('message', (data, isBinary) => {
    const m = { data: Buffer.from(data), isBinary };
    if (waiter) {
        const w = waiter;
        waiter = null;
        w(m);
    } else {
        queue.push(m);
    }
});
ws.on('error', (e) => fail(`error: ${e.message}`));
const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiter = r; }));

const check = (name, cond, detail) => {
    summary.checks.push({ name, ok: !!cond, ...(cond ? {} : { detail }) });
    if (!cond) fail(`${name}: ${detail}`);
};

async function echo(name, payload, binary) {
    ws.send(payload, { binary });
    const m = await next();
    const want = Buffer.from(payload);
    check(name, m.isBinary === binary && m.data.equals(want),
        `got ${m.isBinary ? 'binary' : 'text'} of ${m.data.length} bytes, want ${binary ? 'binary' : 'text'} of ${want.length}`);
}

ws.on('open', async () => {
    try {
        summary.extensions = ws.extensions || '';
        if (url.startsWith('wss:')) {
            // The TLS socket under the WebSocket: verified against --ca, and which TLS version.
            const sock = ws._socket;
            summary.tls = { authorized: !!sock.authorized, protocol: sock.getProtocol ? sock.getProtocol() : null };
            check('tls authorized', sock.authorized === true, `authorizationError: ${sock.authorizationError}`);
        }
        if (!deflate) check('no extension negotiated', ws.extensions === '', `extensions: ${ws.extensions}`);
        else check('permessage-deflate negotiated', String(ws.extensions).includes('permessage-deflate'), `extensions: ${ws.extensions}`);
        await echo('text', 'h\u00e9llo, w\u00f6rld \u{1F600}', false);
        await echo('empty text', '', false);
        const bytes = Buffer.alloc(256);
        for (let i = 0; i < 256; i++) bytes[i] = i;
        await echo('binary', bytes, true);
        const big = Buffer.alloc(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
        await echo('1 MiB binary', big, true);
        await echo('1 MiB text', '\u20ac'.repeat(Math.floor((1 << 20) / 3)), false);

        // Fragments: "frag" + "men" + "ted \u00e9" (the é split across frames below as UTF-8 bytes).
        const e = Buffer.from('\u00e9');
        ws.send('frag', { fin: false });
        ws.send('men', { fin: false });
        ws.send(Buffer.concat([Buffer.from('ted '), e.subarray(0, 1)]), { fin: false, binary: false });
        ws.send(e.subarray(1), { fin: true, binary: false });
        const f = await next();
        check('fragmented text', !f.isBinary && f.data.toString('utf8') === 'fragmented \u00e9',
            `got ${JSON.stringify(f.data.toString('utf8'))}`);

        const pong = new Promise((r) => ws.once('pong', (d) => r(Buffer.from(d))));
        ws.ping('are you there');
        const p = await pong;
        check('ping', p.toString() === 'are you there', `pong payload ${JSON.stringify(p.toString())}`);

        ws.on('close', (code, reason) => {
            check('close 1000', code === 1000, `close code ${code} reason ${reason}`);
            summary.ok = true;
            console.log(JSON.stringify(summary));
            process.exit(0);
        });
        ws.close(1000, 'done');
    } catch (err) {
        fail(err && err.stack ? err.stack : err);
    }
});
