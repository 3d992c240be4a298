"""Several python websockets clients (10.4, asyncio API) in /ws/chat rooms of `upshift serve`.

Usage: chat_clients.py PORT

Checks, printing one "OK <what>" line per check (the C++ test looks for them) and exiting non-zero
on the first failure:
  - a bad room name is refused with 404 before any switch;
  - every client in room "alpha" receives every message sent in alpha (its own included), each
    sender's messages in the order they were sent, and nothing sent in room "beta";
  - join and leave notices reach the others; permessage-deflate is negotiated (RFC 7692);
  - a message above the 64 KiB limit is refused with 1009 (RFC 6455 §7.4.1), binary with 1003.
With `--threads 2` the server spreads the clients over two loops, so messages cross threads.
"""
import asyncio
import json
import sys

import websockets

ALPHA = 6
BETA = 2
PER_CLIENT = 25
DEADLINE = 20  # seconds for any single wait


class Client:
    def __init__(self, ws, name):
        self.ws = ws
        self.name = name
        self.events = []
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        try:
            async for raw in self.ws:
                self.events.append(json.loads(raw))
                self.changed.set()
        except websockets.ConnectionClosed:
            pass
        self.changed.set()

    def texts(self):
        return [(e["from"], e["text"]) for e in self.events if e["type"] == "message"]

    async def wait(self, predicate, what):
        async def loop():
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()
        try:
            await asyncio.wait_for(loop(), DEADLINE)
        except asyncio.TimeoutError:
            raise AssertionError("%s: timed out waiting for %s; got %r" % (self.name, what, self.events[-5:]))


async def join(base, room):
    ws = await websockets.connect(base + room, open_timeout=DEADLINE, close_timeout=DEADLINE)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
    assert welcome["type"] == "welcome" and welcome["room"] == room, welcome
    assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
    return Client(ws, welcome["you"])


async def main(port):
    base = "ws://127.0.0.1:%d/ws/chat/" % port

    for bad in ["bad.room", "x" * 65, "a/b", "%41"]:
        try:
            await websockets.connect(base + bad, open_timeout=DEADLINE)
            raise AssertionError("room %r was accepted" % bad)
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 404, (bad, e.status_code)
    print("OK bad room 404")

    alpha = [await join(base, "alpha") for _ in range(ALPHA)]
    beta = [await join(base, "beta") for _ in range(BETA)]
    print("OK deflate")
    # The first one in alpha hears every later join, with the room's size at that moment.
    first = alpha[0]
    await first.wait(lambda c: sum(e["type"] == "join" for e in c.events) == ALPHA, "joins")
    joins = [(e["who"], e["count"]) for e in first.events if e["type"] == "join"]
    assert joins == [(c.name, i + 1) for i, c in enumerate(alpha)], joins
    print("OK joins")

    async def talk(client, room):
        for i in range(PER_CLIENT):
            await client.ws.send("%s #%d in %s: h\u00e9llo \"quoted\" \\ \t" % (client.name, i, room))

    await asyncio.gather(*[talk(c, "alpha") for c in alpha], *[talk(c, "beta") for c in beta])

    def everything(room, members):
        return sorted((c.name, "%s #%d in %s: h\u00e9llo \"quoted\" \\ \t" % (c.name, i, room))
                      for c in members for i in range(PER_CLIENT))

    for room, members in (("alpha", alpha), ("beta", beta)):
        expected = everything(room, members)
        for c in members:
            await c.wait(lambda c: len(c.texts()) >= len(expected), "%d messages" % len(expected))
            got = c.texts()
            assert sorted(got) == expected, (c.name, len(got), [t for t in got if t not in expected][:3])
            for sender in members:  # each sender's messages in the order sent
                mine = [t for f, t in got if f == sender.name]
                assert mine == ["%s #%d in %s: h\u00e9llo \"quoted\" \\ \t" % (sender.name, i, room)
                                for i in range(PER_CLIENT)], (c.name, sender.name, mine[:3])
    print("OK broadcast %d+%d clients" % (ALPHA, BETA))

    leaver = alpha.pop()
    await leaver.ws.close()
    for c in alpha:
        await c.wait(lambda c: any(e["type"] == "leave" and e["who"] == leaver.name for e in c.events), "leave")
    assert not any(e["type"] == "leave" and e["who"] == leaver.name for b in beta for e in b.events)
    print("OK leave")

    big = alpha.pop()
    await big.ws.send("x" * (64 * 1024 + 1))
    await big.wait(lambda c: c.ws.closed, "close after a too-big message")
    assert big.ws.close_code == 1009, big.ws.close_code
    binary = beta.pop()
    await binary.ws.send(b"\x00\x01")
    await binary.wait(lambda c: c.ws.closed, "close after a binary message")
    assert binary.ws.close_code == 1003, binary.ws.close_code
    print("OK limits")

    for c in alpha + beta:
        await c.ws.close()
        await c.reader
    print("OK done")


asyncio.run(main(int(sys.argv[1])))
