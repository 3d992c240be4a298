// The chat page: joins /ws/chat/<room> (the room comes from ?room=, default "lobby"), shows
// what the room says, and sends what is typed. Server messages are JSON (app/ws_routes.hpp).
// document.body.dataset.state is "connecting", "open" or "closed"; dataset.you is our name.
const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const params = new URLSearchParams(location.search);
const room = params.get('room') || 'lobby';

const messages = document.getElementById('messages');
const status = document.getElementById('status');
const roomInput = document.getElementById('room');
const sendForm = document.getElementById('send-form');
const text = document.getElementById('text');
roomInput.value = room;

function setState(state, note) {
  document.body.dataset.state = state;
  status.textContent = note;
}

function show(className, from, body) {
  const atBottom = messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 4;
  const item = document.createElement('li');
  item.className = className;
  if (from) {
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = `${from}: `;
    item.append(who);
  }
  item.append(body);  // text only: a message can never inject markup
  messages.append(item);
  if (atBottom) messages.scrollTop = messages.scrollHeight;
}

function connect() {
  if (!roomPattern.test(room)) {
    setState('closed', 'room names are 1 to 64 of A-Z a-z 0-9 _ -');
    return;
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const path = `/ws/chat/${room}`;
  document.getElementById('endpoint').textContent = path;
  const socket = new WebSocket(`${scheme}://${location.host}${path}`);
  setState('connecting', 'connecting…');

  socket.addEventListener('message', (event) => {
    const m = JSON.parse(event.data);
    switch (m.type) {
      case 'welcome':
        document.body.dataset.you = m.you;
        setState('open', `you are ${m.you} in ${m.room}`);
        break;
      case 'join':
        show('notice', '', `${m.who} joined (${m.count} here)`);
        break;
      case 'leave':
        show('notice', '', `${m.who} left (${m.count} here)`);
        break;
      case 'message':
        show(m.from === document.body.dataset.you ? 'message mine' : 'message', m.from, m.text);
        break;
    }
  });
  socket.addEventListener('close', (event) => {
    setState('closed', `disconnected (${event.code}${event.reason ? ` ${event.reason}` : ''}): reload to rejoin`);
  });

  sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (socket.readyState !== WebSocket.OPEN || text.value === '') return;
    socket.send(text.value);
    text.value = '';
    text.focus();
  });
}

document.getElementById('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.search = `?room=${encodeURIComponent(roomInput.value)}`;
});

connect();
