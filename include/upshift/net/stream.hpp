#pragma once
// A readiness-driven byte stream: the transport under an HTTP/1 connection
// and under any upgraded protocol. Plain TCP today; TLS (issue 6) implements
// the same interface over an existing stream. Operations never block: they
// return operation_would_block and the owner waits for readiness on fd().
#include <memory>
#include <span>
#include <sys/uio.h>

#include "upshift/net/socket.hpp"

namespace upshift::net {

class stream {
public:
    virtual ~stream() = default;
    virtual io_result read(std::span<char> buf) = 0;
    virtual io_result writev(std::span<iovec const> bufs) = 0;
    /// The fd to wait on for readiness.
    virtual int native_handle() const noexcept = 0;
    /// Half-close: no more writes (sends FIN once buffered data is out).
    virtual void shutdown_write() noexcept = 0;
    /// Closes now (idempotent).
    virtual void close() noexcept = 0;
};

class tcp_stream final : public stream {
public:
    explicit tcp_stream(fd s) noexcept : fd_(std::move(s)) {}
    io_result read(std::span<char> buf) override { return read_some(fd_.get(), buf); }
    io_result writev(std::span<iovec const> bufs) override { return writev_some(fd_.get(), bufs); }
    int native_handle() const noexcept override { return fd_.get(); }
    void shutdown_write() noexcept override;
    void close() noexcept override { fd_.reset(); }
    /// Gives the socket away (for protocols that want the raw fd).
    fd release() noexcept { return std::move(fd_); }

private:
    fd fd_;
};

} // namespace upshift::net
