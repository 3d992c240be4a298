#pragma once
// An owned, ordered list of header fields for messages we build (responses,
// client requests, interim responses). Names keep the case they were given;
// lookups are case-insensitive (RFC 9110 §5.1).
//
// Every name and value lives in one string, indexed by a vector of offsets: a
// response's fields cost two allocations however many there are and however
// long (a list of std::string pairs costs one more per name or value above the
// small-string size, which Last-Modified, ETag and Content-Type all are). Views
// handed out (find(), iteration) stay valid until the next add(), set() or clear().
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upshift/base/ascii.hpp"

namespace upshift::http1 {

class fields {
    struct line {
        std::uint32_t at;  ///< the name's offset in text_; the value follows it
        std::uint32_t name_size;
        std::uint32_t value_size;
    };

public:
    using value_type = std::pair<std::string_view, std::string_view>;

    /// Yields (name, value) views by value: bind them with `auto const& [name, value]`.
    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = fields::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = value_type;
        using pointer = void;

        const_iterator() = default;
        value_type operator*() const noexcept { return owner_->at(*it_); }
        const_iterator& operator++() noexcept {
            ++it_;
            return *this;
        }
        const_iterator operator++(int) noexcept {
            auto old = *this;
            ++it_;
            return old;
        }
        bool operator==(const_iterator const& o) const noexcept { return it_ == o.it_; }

    private:
        friend class fields;
        const_iterator(fields const* owner, std::vector<line>::const_iterator it) : owner_(owner), it_(it) {}
        fields const* owner_ = nullptr;
        std::vector<line>::const_iterator it_;
    };

    fields() = default;
    fields(std::initializer_list<value_type> init) {
        // Sized exactly: the response hot path builds its fields this way.
        std::size_t bytes = 0;
        for (auto const& [n, v] : init) bytes += n.size() + v.size();
        reserve(init.size(), bytes);
        for (auto const& [n, v] : init) add(n, v);
    }

    /// Room for `lines` more fields of `bytes` more name and value bytes in all: adding them
    /// then allocates nothing (views handed out stay valid only until the next add()).
    void reserve(std::size_t lines, std::size_t bytes) {
        lines_.reserve(lines_.size() + lines);
        text_.reserve(text_.size() + bytes);
    }

    /// Appends a field line (duplicates allowed, order kept).
    fields& add(std::string_view name, std::string_view value) {
        lines_.push_back({static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(name.size()),
                          static_cast<std::uint32_t>(value.size())});
        text_.append(name).append(value);
        return *this;
    }
    /// Replaces every field named `name` with one line.
    fields& set(std::string_view name, std::string_view value) {
        erase(name);
        return add(name, value);
    }
    /// Removes every line named `name`. Their bytes stay in the text until clear(): erasing is
    /// rare (a handler overriding a default), and offsets stay simple.
    void erase(std::string_view name) {
        std::erase_if(lines_, [&](line const& l) { return ascii::iequals(name_of(l), name); });
    }
    /// First value named `name`, or "" when absent.
    std::string_view find(std::string_view name) const noexcept {
        for (auto const& l : lines_)
            if (ascii::iequals(name_of(l), name)) return value_of(l);
        return {};
    }
    bool has(std::string_view name) const noexcept {
        for (auto const& l : lines_)
            if (ascii::iequals(name_of(l), name)) return true;
        return false;
    }
    bool empty() const noexcept { return lines_.empty(); }
    std::size_t size() const noexcept { return lines_.size(); }
    const_iterator begin() const noexcept { return {this, lines_.begin()}; }
    const_iterator end() const noexcept { return {this, lines_.end()}; }
    void clear() noexcept {
        lines_.clear();
        text_.clear();
    }

private:
    std::string_view name_of(line const& l) const noexcept { return {text_.data() + l.at, l.name_size}; }
    std::string_view value_of(line const& l) const noexcept {
        return {text_.data() + l.at + l.name_size, l.value_size};
    }
    value_type at(line const& l) const noexcept { return {name_of(l), value_of(l)}; }

    std::string text_;
    std::vector<line> lines_;
};

} // namespace upshift::http1
