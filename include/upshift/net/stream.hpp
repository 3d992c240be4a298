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
    /// Bytes held inside the stream that read() can return without readiness on
    /// native_handle() (TLS: decrypted bytes that did not fit the caller's buffer,
    /// records received together with the last one, an unread seed). Readiness
    /// announces only what is still in the kernel, so an owner that stops calling
    /// read() before it returns operation_would_block (a full buffer, a bound on
    /// reads per wakeup, a hand-off to another protocol) must read again without
    /// waiting while this is nonzero. A hint, not an exact count (1 can stand for
    /// "records received, not yet decrypted", and that read() may still end in
    /// operation_would_block if they hold only the start of a record); always 0
    /// right after read() returned operation_would_block. Plain TCP: always 0.
    virtual std::size_t pending() const noexcept { return 0; }
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
