// The Node `ws` side of the echo load run: ws's WebSocketServer, permessage-deflate off (as for
// the other servers), every message echoed with its kind. Node's one JavaScript thread does all
// the work; run.sh pins the whole process (helper threads too) to the server core.
//
//   NODE_PATH=tests/clients/node_modules node node_ws_echo_server.js PORT
'use strict';
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node node_ws_echo_server.js PORT   (0 picks a free port)');
    process.exit(2);
}
const wss = new WebSocketServer({
    host: '127.0.0.1',
    port,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
    clientTracking: false, // no Set of every client: the other servers keep no such list either
});
wss.on('connection', (ws) => {
    // ws sets TCP_NODELAY on its sockets itself.
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`listening on 127.0.0.1:${wss.address().port}`));
const stop = () => wss.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
