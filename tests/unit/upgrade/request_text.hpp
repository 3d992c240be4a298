#pragma once
// A request_head parsed from real request text, kept alive with the bytes it
// points into (the head is zero-copy).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "upshift/http1/request_parser.hpp"

namespace upshift::upgrade::test {

class parsed_request {
public:
    /// `text` is a full request head, CRLF line endings, ending with an empty line.
    explicit parsed_request(std::string_view text)
        : text_(std::make_unique<std::string>(text)), parser_(std::make_unique<http1::request_parser>()) {
        auto const r = parser_->parse(*text_);
        ok_ = !r.ec && r.consumed == text_->size();
        EXPECT_TRUE(ok_) << "request did not parse: " << r.ec.message() << "\n" << *text_;
    }
    bool ok() const noexcept { return ok_; }
    http1::request_head const& head() const noexcept { return parser_->head(); }

private:
    std::unique_ptr<std::string> text_;  // stable address: the head's views point here
    std::unique_ptr<http1::request_parser> parser_;
    bool ok_ = false;
};

/// "GET /chat HTTP/1.1" + Host + the given field lines ("Name: value\r\n"...).
inline std::string request_with(std::string_view field_lines, std::string_view version = "HTTP/1.1") {
    std::string s = "GET /chat ";
    s += version;
    s += "\r\nHost: server.example.com\r\n";
    s += field_lines;
    s += "\r\n";
    return s;
}

} // namespace upshift::upgrade::test
