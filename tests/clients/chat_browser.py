"""Browser interop for /chat.html and /ws/chat/<room>: headless Chromium driven through the
DevTools protocol (CDP) with python's websockets package, next to a python websockets client in
the same room. No new dependencies: /usr/bin/chromium, /usr/bin/python3 + websockets (10.4).

Usage: chat_browser.py CHROMIUM PORT ROOM PROFILE_DIR

The page (http://127.0.0.1:PORT/chat.html?room=ROOM) connects to ws://127.0.0.1:PORT/ws/chat/ROOM.
The script types lines into the page and clicks Send; each must appear in the page (echoed by the
server to its sender) and reach the python peer; a line from the peer must appear in the page.
Prints "OK <what>" per check; every wait has a deadline, nothing relies on a fixed sleep.
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import websockets

DEADLINE = 20  # seconds for any single wait


async def until(check, what, deadline=DEADLINE):
    """Polls the coroutine function `check` until it returns a true value (returned)."""
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.05)


class Page:
    """One page target over CDP: Runtime.evaluate, results by value."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def eval(self, expression):
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send(json.dumps({"id": my_id, "method": "Runtime.evaluate",
                                       "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), DEADLINE))
            if reply.get("id") != my_id:
                continue  # an event
            if "error" in reply:
                raise AssertionError("CDP error for %s: %s" % (expression, reply["error"]))
            result = reply["result"]
            if "exceptionDetails" in result:
                raise AssertionError("page exception for %s: %s" % (expression, result["exceptionDetails"]))
            return result["result"].get("value")


def devtools_port(profile):
    """The port in DevToolsActivePort ("PORT\n/devtools/browser/ID"), once both lines are there."""
    try:
        with open(os.path.join(profile, "DevToolsActivePort")) as f:
            lines = f.read().split("\n")
        return int(lines[0]) if len(lines) >= 2 and lines[1].startswith("/devtools/") else None
    except (OSError, ValueError):
        return None


def page_targets(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
        return [t for t in json.load(r) if t.get("type") == "page"]


async def peer_wait(peer, inbox, predicate, what):
    """Reads the python peer's messages into `inbox` until one satisfies predicate."""
    end = time.monotonic() + DEADLINE
    while not any(predicate(m) for m in inbox):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("peer: timed out waiting for %s; got %r" % (what, inbox[-5:]))
        try:
            inbox.append(json.loads(await asyncio.wait_for(peer.recv(), left)))
        except asyncio.TimeoutError:
            pass


async def main(chromium, port, room, profile):
    origin = "http://127.0.0.1:%d" % port
    peer = await websockets.connect("ws://127.0.0.1:%d/ws/chat/%s" % (port, room), open_timeout=DEADLINE)
    inbox = []
    welcome = json.loads(await asyncio.wait_for(peer.recv(), DEADLINE))
    assert welcome["type"] == "welcome", welcome
    print("OK peer joined as " + welcome["you"], flush=True)

    url = "%s/chat.html?room=%s" % (origin, room)
    browser = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--user-data-dir=" + profile, "--remote-debugging-port=0", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        async def port_file():
            if browser.poll() is not None:
                raise AssertionError("chromium exited with %s" % browser.returncode)
            return devtools_port(profile)
        cdp_port = await until(port_file, "DevToolsActivePort")

        async def our_page():
            try:
                return next((t for t in page_targets(cdp_port) if t["url"].startswith(url)), None)
            except OSError:
                return None
        target = await until(our_page, "the chat page target")
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=None) as cdp:
            page = Page(cdp)

            async def state_open():
                return await page.eval("document.readyState === 'complete' && document.body.dataset.state === 'open'"
                                       " && document.body.dataset.you")
            you = await until(state_open, "the page's WebSocket to open")
            print("OK page open as " + you, flush=True)
            await peer_wait(peer, inbox, lambda m: m["type"] == "join" and m["who"] == you, "the page's join")
            print("OK peer saw the page join", flush=True)

            lines = ["hello from chromium", "<b>not bold</b> & \u00fcn\u00efc\u00f8d\u00e9 \u2713"]
            for line in lines:
                # Type into the input and click Send, as a user would.
                await page.eval("document.getElementById('text').value = %s;"
                                "document.getElementById('send').click(); true" % json.dumps(line))
            shown = ("Array.from(document.querySelectorAll('#messages li.message'))"
                     ".map(li => [li.querySelector('.from').textContent, li.lastChild.textContent])")

            async def page_has(who, line):
                return [who + ": ", line] in (await page.eval(shown))
            for line in lines:
                await until(lambda: page_has(you, line), "the page to show its own line %r" % line)
            # Text only: the markup in the second line was not parsed into an element.
            assert await page.eval("document.querySelector('#messages b') === null")
            print("OK page shows its own lines", flush=True)
            for line in lines:
                await peer_wait(peer, inbox, lambda m: m == {"type": "message", "from": you, "text": line},
                                "the page's line %r" % line)
            print("OK peer got the page's lines", flush=True)

            await peer.send("hello from python \u00e9")
            await until(lambda: page_has(welcome["you"], "hello from python \u00e9"), "the peer's line in the page")
            print("OK page shows the peer's line", flush=True)

            await peer.close()
            await until(lambda: page.eval("Array.from(document.querySelectorAll('#messages li.notice'))"
                                          ".some(li => li.textContent === %s)" % json.dumps(welcome["you"] + " left (1 here)")),
                        "the peer's leave notice in the page")
            print("OK page shows the leave", flush=True)
    finally:
        # SIGTERM lets chromium reap its helper processes; whatever is left after 5 s is killed.
        browser.terminate()
        try:
            browser.wait(5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(browser.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        browser.wait()
    print("OK done", flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
