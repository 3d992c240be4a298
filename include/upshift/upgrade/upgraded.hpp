#pragma once
// The hand-off value: after the 101 is on the wire, the connection leaves
// HTTP/1 and everything it had goes to the protocol, in one move.
#include <memory>
#include <string>

#include "upshift/http1/fields.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/stream.hpp"

namespace upshift::upgrade {

/// The request that asked to switch, owned (the HTTP/1 buffers are gone).
struct request_info {
    std::string method;
    std::string target;
    int version_minor = 1;
    http1::fields headers;
};

struct upgraded {
    /// The connected transport, now the protocol's. Non-blocking; no handler gets its events.
    std::unique_ptr<net::stream> stream;
    /// Bytes received after the request (and its body), not yet consumed, in
    /// order: a client may send its first frame in the same write as the
    /// request. The protocol MUST consume them before its first read.
    std::string leftover;
    request_info request;
    std::string protocol;   ///< the token announced in the 101's Upgrade header
    std::string remote;     ///< peer address "ip:port"
    net::loop* loop = nullptr;  ///< the loop the stream must be used on
    bool secure = false;        ///< the stream is TLS (HTTPS listener or RFC 2817 upgrade)
    /// The stream's fd is still in `loop`'s epoll set (a hand-off on that loop, loop::detach()):
    /// register it with loop->take_over(fd, handler, events, registered), which makes no system
    /// call when the interest is the one the fd had. Only for this stream, while it stays open.
    bool registered = false;
};

} // namespace upshift::upgrade
