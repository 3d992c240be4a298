#pragma once
// Drivers that run a head parser over every split of an input (see
// support/split.hpp) and over guard-paged prefixes, and insist that every way
// of feeding the bytes gives the same answer.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "support/guard_page_buffer.hpp"
#include "support/split.hpp"
#include "upshift/http1/request_parser.hpp"
#include "upshift/http1/response_parser.hpp"

namespace upshift::test {

/// Parses one head from `s` with a growing buffer. Calls on_done(result,
/// parser, buffer) once the parser stops asking for more; returns the final
/// result (need_more if the input ran out).
template <class Parser, class Parse, class OnDone>
http1::parse_result feed(split const& s, Parser& parser, Parse&& parse, OnDone&& on_done) {
    http1::parse_result last{0, http1::error::need_more};
    s.grow([&](std::string_view buf) {
        last = parse(parser, buf);
        if (last.ec == http1::error::need_more) return true;
        on_done(last, parser, buf);
        return false;
    });
    return last;
}

/// Every split, and every prefix placed before a guard page, must give `expected`.
/// on_ok(head, consumed, buffer) checks a successful parse in each split.
template <class Parser, class Parse, class OnOk>
void check_all_splits(std::string_view bytes, http1::limits const& lim, std::error_code expected, Parse&& parse,
                      OnOk&& on_ok) {
    SCOPED_TRACE(::testing::PrintToString(std::string(bytes)));
    for_each_split(bytes, [&](split const& s) {
        SCOPED_TRACE(s.name);
        Parser parser(lim);
        auto r = feed(s, parser, parse, [&](http1::parse_result res, Parser& p, std::string_view buf) {
            if (!res.ec) on_ok(p.head(), res.consumed, buf);
        });
        EXPECT_EQ(r.ec, expected) << r.ec.message();
    });
    // Guard pages: the parser sees each prefix at the very end of readable memory.
    Parser parser(lim);
    http1::parse_result r{0, http1::error::need_more};
    for (std::size_t k = 0; k <= bytes.size() && r.ec == http1::error::need_more; ++k) {
        guard_page_buffer g(bytes.substr(0, k));
        r = parse(parser, g.view());
    }
    EXPECT_EQ(r.ec, expected) << "guard page: " << r.ec.message();
}

inline auto request_parse() {
    return [](http1::request_parser& p, std::string_view in) { return p.parse(in); };
}

/// Expects `bytes` to parse as a request in every split; check(head, consumed) runs for each.
template <class Check>
void expect_request(std::string_view bytes, Check&& check, http1::limits const& lim = {}) {
    check_all_splits<http1::request_parser>(bytes, lim, {}, request_parse(),
                                            [&](http1::request_head const& h, std::size_t consumed,
                                                std::string_view) { check(h, consumed); });
}

inline void expect_request_error(std::string_view bytes, http1::error e, http1::limits const& lim = {}) {
    check_all_splits<http1::request_parser>(bytes, lim, make_error_code(e), request_parse(),
                                            [](http1::request_head const&, std::size_t, std::string_view) {});
}

inline auto response_parse(http1::response_context ctx = {}) {
    return [ctx](http1::response_parser& p, std::string_view in) { return p.parse(in, ctx); };
}

template <class Check>
void expect_response(std::string_view bytes, Check&& check, http1::response_context ctx = {},
                     http1::limits const& lim = {}) {
    check_all_splits<http1::response_parser>(bytes, lim, {}, response_parse(ctx),
                                             [&](http1::response_head const& h, std::size_t consumed,
                                                 std::string_view) { check(h, consumed); });
}

inline void expect_response_error(std::string_view bytes, http1::error e, http1::response_context ctx = {},
                                  http1::limits const& lim = {}) {
    check_all_splits<http1::response_parser>(bytes, lim, make_error_code(e), response_parse(ctx),
                                             [](http1::response_head const&, std::size_t, std::string_view) {});
}

} // namespace upshift::test
