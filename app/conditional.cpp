#include "conditional.hpp"

#include <cstdio>

#include "upshift/base/token_list.hpp"
#include "upshift/http1/serializer.hpp"

namespace upshift::app {
namespace {

struct entity_tag {
    bool weak = false;
    std::string_view opaque;  ///< including the quotes
};

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3); false if malformed.
bool parse_entity_tag(std::string_view s, entity_tag& out) {
    out.weak = s.starts_with("W/");
    if (out.weak) s.remove_prefix(2);
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    if (s.substr(1, s.size() - 2).find('"') != std::string_view::npos) return false;
    out.opaque = s;
    return true;
}

// Collects every line of a list-valued field (a recipient may get it split over several lines,
// RFC 9110 §5.3) and reports whether any element matches.
bool any_line_matches(http1::request_head const& req, std::string_view name, std::string_view etag, bool weak) {
    bool found = false;
    req.for_each(name, [&](std::string_view v) {
        if (!found && etag_list_matches(v, etag, weak)) found = true;
    });
    return found;
}

// A date precondition is ignored unless there is exactly one field line with a valid HTTP-date
// (RFC 9110 §13.1.3 and §13.1.4: "MUST ignore ... if the field value is not a valid HTTP-date,
// the field value has more than one member"). -1 when ignored.
long long single_date(http1::request_head const& req, std::string_view name) {
    int lines = 0;
    long long when = -1;
    req.for_each(name, [&](std::string_view v) {
        ++lines;
        when = http1::parse_http_date(v);
    });
    return lines == 1 ? when : -1;
}

} // namespace

std::string make_etag(std::uint64_t size, timespec mtime) {
    auto const ns = static_cast<std::uint64_t>(mtime.tv_sec) * 1'000'000'000ULL +
                    static_cast<std::uint64_t>(mtime.tv_nsec);
    char buf[48];
    int const n = std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(size),
                                static_cast<unsigned long long>(ns));
    return {buf, static_cast<std::size_t>(n)};
}

bool etag_list_matches(std::string_view value, std::string_view etag, bool weak) {
    entity_tag mine;
    if (!parse_entity_tag(etag, mine)) return false;
    if (ascii::trim_ows(value) == "*") return true;
    bool found = false;
    for_each_list_element(value, [&](std::string_view element) {
        entity_tag theirs;
        if (!parse_entity_tag(element, theirs)) return true;  // skip junk, keep looking
        bool const same = theirs.opaque == mine.opaque && (weak || (!theirs.weak && !mine.weak));
        if (same) found = true;
        return !found;
    });
    return found;
}

precondition_result evaluate_preconditions(http1::request_head const& req, std::string_view etag,
                                           long long last_modified) {
    // Step 1: If-Match uses the strong comparison (§13.1.1).
    if (req.has("If-Match")) {
        if (!any_line_matches(req, "If-Match", etag, false)) return precondition_result::precondition_failed;
    } else if (long long const since = single_date(req, "If-Unmodified-Since"); since >= 0) {
        // Step 2: only without If-Match (§13.1.4).
        if (last_modified > since) return precondition_result::precondition_failed;
    }
    // Step 3: If-None-Match uses the weak comparison (§13.1.2); for GET and HEAD a match is 304.
    if (req.has("If-None-Match"))
        return any_line_matches(req, "If-None-Match", etag, true) ? precondition_result::not_modified
                                                                  : precondition_result::proceed;
    // Step 4: If-Modified-Since is evaluated only without If-None-Match (§13.1.3), which is
    // the more accurate validator.
    if (long long const since = single_date(req, "If-Modified-Since"); since >= 0)
        if (last_modified <= since) return precondition_result::not_modified;
    return precondition_result::proceed;
}

} // namespace upshift::app
