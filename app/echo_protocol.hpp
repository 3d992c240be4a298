#pragma once
// `Upgrade: echo`: a tiny custom protocol for demos and tests. After the 101
// every byte the client sends comes back unchanged, including bytes sent in
// the same write as the upgrade request. Shows the whole custom-protocol API:
// upgrade::protocol for negotiation, upgrade::raw_channel for the bytes.
#include <memory>

#include "upshift/upgrade/protocol.hpp"

namespace upshift::app {

std::shared_ptr<upgrade::protocol const> make_echo_protocol();

} // namespace upshift::app
