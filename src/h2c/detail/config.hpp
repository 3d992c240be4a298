#pragma once
// What every h2c session of a service shares: the application and the limits.
#include "upshift/h2c/service.hpp"

namespace upshift::h2c::detail {

struct config {
    server::handler app;
    h2c::options opts;
};

} // namespace upshift::h2c::detail
