// Reason phrases: the IANA HTTP Status Code Registry (RFC 9110 §15).
#include "upshift/http1/status.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace upshift::http1 {
namespace {

TEST(Status, RegistryPhrases) {
    std::pair<status, std::string_view> const registry[] = {
        {status::continue_, "Continue"}, {status::switching_protocols, "Switching Protocols"},
        {status::processing, "Processing"}, {status::early_hints, "Early Hints"}, {status::ok, "OK"},
        {status::created, "Created"}, {status::accepted, "Accepted"},
        {status::non_authoritative_information, "Non-Authoritative Information"}, {status::no_content, "No Content"},
        {status::reset_content, "Reset Content"}, {status::partial_content, "Partial Content"},
        {status::multi_status, "Multi-Status"}, {status::already_reported, "Already Reported"},
        {status::im_used, "IM Used"}, {status::multiple_choices, "Multiple Choices"},
        {status::moved_permanently, "Moved Permanently"}, {status::found, "Found"}, {status::see_other, "See Other"},
        {status::not_modified, "Not Modified"}, {status::use_proxy, "Use Proxy"},
        {status::temporary_redirect, "Temporary Redirect"}, {status::permanent_redirect, "Permanent Redirect"},
        {status::bad_request, "Bad Request"}, {status::unauthorized, "Unauthorized"},
        {status::payment_required, "Payment Required"}, {status::forbidden, "Forbidden"},
        {status::not_found, "Not Found"}, {status::method_not_allowed, "Method Not Allowed"},
        {status::not_acceptable, "Not Acceptable"},
        {status::proxy_authentication_required, "Proxy Authentication Required"},
        {status::request_timeout, "Request Timeout"}, {status::conflict, "Conflict"}, {status::gone, "Gone"},
        {status::length_required, "Length Required"}, {status::precondition_failed, "Precondition Failed"},
        {status::content_too_large, "Content Too Large"}, {status::uri_too_long, "URI Too Long"},
        {status::unsupported_media_type, "Unsupported Media Type"},
        {status::range_not_satisfiable, "Range Not Satisfiable"}, {status::expectation_failed, "Expectation Failed"},
        {status::misdirected_request, "Misdirected Request"}, {status::unprocessable_content, "Unprocessable Content"},
        {status::locked, "Locked"}, {status::failed_dependency, "Failed Dependency"}, {status::too_early, "Too Early"},
        {status::upgrade_required, "Upgrade Required"}, {status::precondition_required, "Precondition Required"},
        {status::too_many_requests, "Too Many Requests"},
        {status::request_header_fields_too_large, "Request Header Fields Too Large"},
        {status::unavailable_for_legal_reasons, "Unavailable For Legal Reasons"},
        {status::internal_server_error, "Internal Server Error"}, {status::not_implemented, "Not Implemented"},
        {status::bad_gateway, "Bad Gateway"}, {status::service_unavailable, "Service Unavailable"},
        {status::gateway_timeout, "Gateway Timeout"},
        {status::http_version_not_supported, "HTTP Version Not Supported"},
        {status::variant_also_negotiates, "Variant Also Negotiates"},
        {status::insufficient_storage, "Insufficient Storage"}, {status::loop_detected, "Loop Detected"},
        {status::not_extended, "Not Extended"},
        {status::network_authentication_required, "Network Authentication Required"},
    };
    for (auto const& [s, phrase] : registry) EXPECT_EQ(reason_phrase(s), phrase) << to_int(s);
}

TEST(Status, UnregisteredCodesGetTheirClass) {
    EXPECT_EQ(reason_phrase(199u), "Informational");
    EXPECT_EQ(reason_phrase(299u), "Success");
    EXPECT_EQ(reason_phrase(306u), "Redirection");  // unused in the registry
    EXPECT_EQ(reason_phrase(418u), "Client Error");  // reserved, not assigned
    EXPECT_EQ(reason_phrase(599u), "Server Error");
    EXPECT_EQ(reason_phrase(99u), "");
    EXPECT_EQ(reason_phrase(600u), "");
    EXPECT_EQ(reason_phrase(status::unknown), "");
}

TEST(Status, Helpers) {
    EXPECT_TRUE(is_informational(103));
    EXPECT_FALSE(is_informational(200));
    EXPECT_EQ(to_int(status::upgrade_required), 426u);
}

} // namespace
} // namespace upshift::http1
