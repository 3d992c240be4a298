#include "upshift/net/stream.hpp"

#include <sys/socket.h>

namespace upshift::net {

void tcp_stream::shutdown_write() noexcept {
    if (fd_) ::shutdown(fd_.get(), SHUT_WR);
}

} // namespace upshift::net
