// exchange::read_body_all() on top of read_body(), shared by HTTP/1 connections and HTTP/2 streams.
#include <memory>

#include "upshift/server/server.hpp"
#include "upshift/server/exchange.hpp"

namespace upshift::server {

body_reader collect_body(std::size_t max, std::size_t reserve, unique_function<void()> on_too_large,
                         unique_function<void(std::error_code, std::string)> done) {
    struct collector {
        std::string body;
        std::size_t max;
        unique_function<void()> on_too_large;
        unique_function<void(std::error_code, std::string)> done;
        bool failed = false;
    };
    auto st = std::make_shared<collector>(collector{{}, max, std::move(on_too_large), std::move(done)});
    if (reserve <= max) st->body.reserve(reserve);
    body_reader r;
    r.on_data = [st](std::string_view piece) {
        if (st->failed) return;
        if (st->body.size() + piece.size() > st->max) {
            st->failed = true;
            if (st->on_too_large) st->on_too_large();
            st->done(make_error_code(error::body_too_large), {});
            return;
        }
        st->body.append(piece);
    };
    r.on_end = [st](std::error_code ec) {
        if (st->failed) return;
        st->done(ec, ec ? std::string{} : std::move(st->body));
    };
    return r;
}

} // namespace upshift::server
