#pragma once
// Serves the files under a document root: GET and HEAD, directory index,
// validators and conditional requests, bounded memory for large files.
#include <chrono>
#include <memory>
#include <string>
#include <system_error>

#include "upshift/server/exchange.hpp"

namespace upshift::app {

class static_files {
public:
    /// Resolves `root` to its canonical path once, so that each request only has to compare
    /// prefixes. Fails (ec set) if root does not exist or is not a directory.
    /// `cache_valid`: how long a cached small file is trusted before one stat() checks it again.
    static std::shared_ptr<static_files const> open(std::string const& root, std::chrono::milliseconds cache_valid,
                                                    std::error_code& ec);

    /// Answers the request from the file system. Thread-safe (no mutable state); runs on the
    /// exchange's loop thread.
    ///   405 + Allow for methods other than GET and HEAD (RFC 9110 §15.5.6)
    ///   400 for malformed percent-encoding, 404 for anything missing or outside the root
    ///   301 for a directory named without its trailing '/', then its index.html
    ///   304 / 412 per the preconditions (RFC 9110 §13.2.2)
    void serve(server::exchange& ex) const;

    std::string const& root() const noexcept { return root_; }

private:
    static_files(std::string canonical_root, std::chrono::milliseconds cache_valid)
        : root_(std::move(canonical_root)), cache_valid_(cache_valid) {}

    std::string root_;  ///< canonical, no trailing '/' (unless it is "/")
    std::chrono::milliseconds cache_valid_;
};

} // namespace upshift::app
