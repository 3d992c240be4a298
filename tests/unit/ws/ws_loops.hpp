#pragma once
// A fixture for cross-thread WebSocket tests: N real net::loops, each on its own
// thread, and a listener on 127.0.0.1 whose connections the test places on a
// chosen loop as ws::sessions (the handshake is skipped: the session starts on
// the accepted socket, as it would after the 101). Clients are raw sockets that
// send masked frames (client_frames.hpp) and read the server's frames (support/ws_test_client.hpp).
//
// Events recorded (event_log, thread-safe): "open:<name>", "message:<name>:<text>",
// "close:<name>:<code>:<reason>", where <name> is the session's remote() ("c0", "c1", ...).
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_frames.hpp"
#include "server_fixture.hpp"
#include "support/piecewise_reader.hpp"
#include "support/ws_test_client.hpp"
#include "upshift/net/socket.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::test {

/// The payload of the next frame if it is a text frame; "" with a gtest failure otherwise.
inline std::string read_text(raw_client& c, std::chrono::milliseconds timeout = 5s) {
    auto f = read_server_frame(c, timeout);
    if (!f) {
        ADD_FAILURE() << "no frame: " << c.error() << " (" << c.received().size() << " bytes pending)";
        return {};
    }
    if (f->op != op_text) {
        ADD_FAILURE() << "expected a text frame, got " << *f;
        return {};
    }
    return f->payload;
}

/// A transport that is not net::tcp_stream (as TLS is not): it forwards to the socket and
/// counts its calls, so a test can see that a session used it rather than the socket alone.
/// With `piece` > 0 it behaves like TLS with several records in one segment: a read drains
/// the socket into the stream, hands out at most `piece` bytes, and pending() tells what it
/// still holds, which no readiness of the socket will announce.
struct counting_stream final : net::stream {
    struct counts {
        std::atomic<int> reads{0}, writes{0}, shutdowns{0}, closes{0};
        std::size_t piece = 0;
    };
    counting_stream(net::fd s, std::shared_ptr<counts> c) : inner(std::move(s)), n(std::move(c)) {}
    net::io_result read(std::span<char> buf) override {
        ++n->reads;
        if (n->piece == 0) return inner.read(buf);
        holder.piece = n->piece;
        return holder.read(inner, buf);
    }
    std::size_t pending() const noexcept override { return holder.pending(); }
    net::io_result writev(std::span<iovec const> bufs) override {
        ++n->writes;
        return inner.writev(bufs);
    }
    int native_handle() const noexcept override { return inner.native_handle(); }
    void shutdown_write() noexcept override {
        ++n->shutdowns;
        inner.shutdown_write();
    }
    void close() noexcept override {
        ++n->closes;
        inner.close();
    }
    net::tcp_stream inner;
    std::shared_ptr<counts> n;
    piecewise_reader holder;
};

class ws_loops_fixture : public ::testing::Test {
protected:
    /// Starts `loops` loop threads and the listener. `b`'s callbacks are wrapped to record events;
    /// with `take_handles`, on_open stores s.handle() for handle(name).
    ::testing::AssertionResult start(std::size_t loops, ws::options opt, ws::behaviour b, bool take_handles = false) {
        std::error_code ec;
        net::endpoint bound;
        listener_ = net::listen_tcp(net::endpoint{"127.0.0.1", 0}, {}, ec, &bound);
        if (ec) return ::testing::AssertionFailure() << "listen: " << ec.message();
        port_ = bound.port;
        auto user_open = std::move(b.on_open);
        b.on_open = [this, user_open, take_handles](ws::session& s) {
            if (take_handles) {
                std::lock_guard lock{mu_};
                handles_[s.remote()] = s.handle();
            }
            if (user_open) user_open(s);
            events.add("open:" + s.remote());
        };
        auto user_message = std::move(b.on_message);
        b.on_message = [this, user_message](ws::session& s, std::string_view m, ws::message_kind k) {
            events.add("message:" + s.remote() + ":" + std::string(m));
            if (user_message) user_message(s, m, k);
        };
        auto user_close = std::move(b.on_close);
        b.on_close = [this, user_close](ws::session& s, std::uint16_t code, std::string_view reason) {
            if (user_close) user_close(s, code, reason);
            events.add("close:" + s.remote() + ":" + std::to_string(code) + ":" + std::string(reason));
        };
        config_ = std::make_shared<ws::session_config const>(ws::session_config{std::move(opt), std::move(b)});
        for (std::size_t i = 0; i < loops; ++i) {
            auto l = std::make_unique<net::loop>();
            auto* raw = l.get();
            loops_.push_back(std::move(l));
            threads_.emplace_back([raw] { raw->run(); });
        }
        return ::testing::AssertionSuccess();
    }

    /// Connects a client whose session runs on loop `index`; waits for its on_open. The
    /// session's remote() is "c<n>" (n counts clients), returned through `name`. `sndbuf` > 0
    /// shrinks the server side's socket send buffer (so a session's own queue fills quickly).
    raw_client connect_on(std::size_t index, std::string* name = nullptr, int sndbuf = 0) {
        raw_client c{port_};
        EXPECT_TRUE(c.connected()) << c.error();
        pollfd p{listener_.get(), POLLIN, 0};
        EXPECT_EQ(::poll(&p, 1, 5000), 1) << "no connection to accept";
        std::error_code ec;
        auto accepted = net::accept_tcp(listener_.get(), ec);
        EXPECT_TRUE(accepted) << ec.message();
        if (sndbuf > 0) ::setsockopt(accepted.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        std::string const id = "c" + std::to_string(clients_++);
        if (name) *name = id;
        auto* l = loops_.at(index).get();
        std::unique_ptr<net::stream> stream;
        if (make_stream) stream = make_stream(std::move(accepted));
        else if (stream_counts) stream = std::make_unique<counting_stream>(std::move(accepted), stream_counts);
        else stream = std::make_unique<net::tcp_stream>(std::move(accepted));
        l->post([l, stream = std::move(stream), id, config = config_]() mutable {
            upgrade::upgraded u;
            u.stream = std::move(stream);
            u.request.method = "GET";
            u.request.target = "/test";
            u.protocol = "websocket";
            u.remote = id;
            u.loop = l;
            ws::session::open(std::move(u), config, "");
        });
        EXPECT_TRUE(events.wait_for("open:" + id)) << id << " never opened";
        return c;
    }

    net::loop& loop(std::size_t index) { return *loops_.at(index); }

    ws::session_handle handle(std::string const& name) {
        std::lock_guard lock{mu_};
        auto it = handles_.find(name);
        return it == handles_.end() ? ws::session_handle{} : it->second;
    }

    /// Runs fn on loop `index` and waits for it (bounded).
    bool on_loop(std::size_t index, std::function<void()> fn) {
        auto done = std::make_shared<std::promise<void>>();
        auto f = done->get_future();
        loops_.at(index)->post([fn = std::move(fn), done] {
            fn();
            done->set_value();
        });
        return f.wait_for(5s) == std::future_status::ready;
    }

    /// Sends a masked Close with `code` and waits until the server closed the session.
    void close_client(raw_client& c, std::string const& name, int code = 1000) {
        ASSERT_TRUE(c.send_all(ws::test::frame(ws::opcode::close, close_body(code))));
        EXPECT_TRUE(events.wait_for("close:" + name + ":" + std::to_string(code) + ":")) << name;
    }

    void TearDown() override {
        // Sessions finish (and are freed in the deferred phase of the same iteration) before
        // their loops stop and are destroyed.
        for (auto& l : loops_) {
            l->post([raw = l.get()] {
                raw->notify_shutdown(true);
                raw->stop();
            });
        }
        for (auto& t : threads_) t.join();
        {
            std::lock_guard lock{mu_};
            handles_.clear();
        }
        loops_.clear();
    }

    event_log events;
    /// Set: sessions get a counting_stream (counting into this) instead of a net::tcp_stream.
    std::shared_ptr<counting_stream::counts> stream_counts;
    /// Set: sessions get the transport this makes of the accepted socket (before stream_counts).
    std::function<std::unique_ptr<net::stream>(net::fd)> make_stream;

private:
    net::fd listener_;
    std::uint16_t port_ = 0;
    std::size_t clients_ = 0;
    std::shared_ptr<ws::session_config const> config_;
    std::vector<std::unique_ptr<net::loop>> loops_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::map<std::string, ws::session_handle> handles_;
};

} // namespace upshift::test
