#pragma once
// An owned, ordered list of header fields for messages we build (responses,
// client requests, interim responses). Names keep the case they were given;
// lookups are case-insensitive (RFC 9110 §5.1).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upshift/base/ascii.hpp"

namespace upshift::http1 {

class fields {
public:
    fields() = default;
    fields(std::initializer_list<std::pair<std::string_view, std::string_view>> init) {
        items_.reserve(init.size());  // one allocation for the list on the response hot path
        for (auto& [n, v] : init) add(n, v);
    }

    /// Appends a field line (duplicates allowed, order kept).
    fields& add(std::string_view name, std::string_view value) {
        items_.emplace_back(std::string(name), std::string(value));
        return *this;
    }
    /// Replaces every field named `name` with one line.
    fields& set(std::string_view name, std::string_view value) {
        erase(name);
        return add(name, value);
    }
    void erase(std::string_view name) {
        std::erase_if(items_, [&](auto const& p) { return ascii::iequals(p.first, name); });
    }
    /// First value named `name`, or "" when absent.
    std::string_view find(std::string_view name) const noexcept {
        for (auto const& p : items_)
            if (ascii::iequals(p.first, name)) return p.second;
        return {};
    }
    bool has(std::string_view name) const noexcept {
        for (auto const& p : items_)
            if (ascii::iequals(p.first, name)) return true;
        return false;
    }
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

} // namespace upshift::http1
