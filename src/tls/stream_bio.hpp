#pragma once
// A custom OpenSSL BIO over tls::stream::transport: serves the held bytes (the
// seed, then what was read ahead) first, then reads from the inner net::stream,
// taking up to transport::read_budget more than OpenSSL asked for in the same
// read; writes go to the inner stream.
// operation_would_block becomes BIO's "retry" so OpenSSL reports WANT_READ /
// WANT_WRITE instead of failing.
#include <openssl/bio.h>

#include "upshift/tls/stream.hpp"

namespace upshift::tls::detail {

/// A new BIO reading and writing through `t` (not owned; must outlive the BIO).
BIO* make_stream_bio(stream::transport& t);

} // namespace upshift::tls::detail
