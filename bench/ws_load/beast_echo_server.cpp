// The Boost.Beast side of the echo load run: a single-threaded asynchronous WebSocket echo
// server written the way Beast's own examples write one (websocket_server_async.cpp and the
// advanced server): one io_context run by one thread, a session per connection that does
// async_accept, then async_read into a flat_buffer and async_write of the same buffer, forever.
// Settings: TCP_NODELAY on every accepted socket (as the issue asks; Beast does not set it),
// permessage-deflate off (Beast's default), the echo keeps the message's kind (text/binary),
// auto_fragment off so a 64 KiB message goes out as one frame like the other servers send it
// (Beast's default would split it into 4 KiB frames, which only costs Beast time), and
// timeout::suggested(server) like the examples. BEAST_AUTO_FRAGMENT=1 restores Beast's default.
//
//   beast_echo_server PORT       -> prints "listening on 127.0.0.1:PORT" once it accepts
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// BEAST_AUTO_FRAGMENT=1 in the environment: Beast's default (outgoing messages cut into frames of
// its write buffer's size), to compare with a Beast as configured out of the box.
bool const auto_fragment = [] {
    char const* v = std::getenv("BEAST_AUTO_FRAGMENT");
    return v != nullptr && std::strcmp(v, "1") == 0;
}();

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(tcp::socket&& socket) : ws_(std::move(socket)) {}

    void run() {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.auto_fragment(auto_fragment);
        ws_.read_message_max(std::size_t{64} << 20);
        ws_.async_accept(beast::bind_front_handler(&session::on_accept, shared_from_this()));
    }

private:
    void on_accept(beast::error_code ec) {
        if (ec) return;
        do_read();
    }
    void do_read() { ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, shared_from_this())); }
    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return;  // closed (websocket::error::closed) or failed
        ws_.text(ws_.got_text());
        ws_.async_write(buffer_.data(), beast::bind_front_handler(&session::on_write, shared_from_this()));
    }
    void on_write(beast::error_code ec, std::size_t bytes) {
        if (ec) return;
        buffer_.consume(bytes);
        do_read();
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
};

class listener : public std::enable_shared_from_this<listener> {
public:
    listener(net::io_context& ioc, tcp::endpoint ep) : ioc_(ioc), acceptor_(ioc) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    void run() { do_accept(); }

private:
    void do_accept() {
        // On the io_context itself, not a strand as the multi-threaded examples use: with one
        // thread a strand only adds a dispatch per handler.
        acceptor_.async_accept(ioc_, beast::bind_front_handler(&listener::on_accept, shared_from_this()));
    }
    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            socket.set_option(tcp::no_delay(true));
            std::make_shared<session>(std::move(socket))->run();
        }
        do_accept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
};

} // namespace

int main(int argc, char** argv) {
    char* end = nullptr;
    long const port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || end == argv[1] || *end != '\0' || port < 0 || port > 65535) {
        std::fputs("usage: beast_echo_server PORT   (0 picks a free port; prints \"listening on 127.0.0.1:PORT\")\n",
                   stderr);
        return 2;
    }
    net::io_context ioc{1};
    auto l = std::make_shared<listener>(
        ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    l->run();
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(l->port()));
    std::fflush(stdout);
    ioc.run();
    return 0;
}
