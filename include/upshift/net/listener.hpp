#pragma once
// Accepts connections from a listening socket on a loop. Accepting stops for a
// moment when the process runs out of fds (EMFILE/ENFILE) instead of spinning.
#include <functional>

#include "upshift/net/loop.hpp"
#include "upshift/net/socket.hpp"

namespace upshift::net {

class acceptor final : public io_handler {
public:
    /// Called on the loop thread for each accepted (non-blocking) socket.
    using on_accept_fn = std::function<void(fd socket, endpoint const& peer)>;

    acceptor(loop& l, fd listener, on_accept_fn fn);
    ~acceptor() override;
    acceptor(acceptor const&) = delete;
    acceptor& operator=(acceptor const&) = delete;

    /// Stops / restarts watching the listener (the kernel keeps queueing).
    void pause() noexcept;
    void resume();
    /// Stops accepting and closes the listening socket (idempotent).
    void close() noexcept;
    bool is_open() const noexcept { return static_cast<bool>(listener_); }
    int native_handle() const noexcept { return listener_.get(); }

    void on_io(std::uint32_t events) override;

private:
    loop& loop_;
    fd listener_;
    on_accept_fn fn_;
    timer retry_;
    bool watching_ = false;
};

} // namespace upshift::net
