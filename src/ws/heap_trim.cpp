// The trim after a burst of upgrades (heap_trim.hpp).
#include "ws/heap_trim.hpp"

#include <malloc.h>

namespace upshift::ws::detail {
namespace {

constexpr std::chrono::milliseconds quiet{1000};

/// One per thread: it is armed on the loop that thread runs (a thread that runs several
/// loops, as tests do, trims from the one it was armed on).
class burst_trim final : public net::timer_hook {
public:
    burst_trim() noexcept : timer_hook(&burst_trim::fire) {}
    burst_trim(burst_trim const&) = delete;
    burst_trim& operator=(burst_trim const&) = delete;
    ~burst_trim() {
        // A loop destroyed before this thread ends has disarmed it already (its destructor
        // disarms every hook), so armed_on_ is only used while the hook is in its heap.
        if (active()) cancel(*armed_on_);
    }

    void opened(net::loop& l) noexcept {
        last_open_ = l.now();
        if (active()) return;  // armed (here or on another loop of this thread): it will look again
        armed_on_ = &l;
        try {
            start(l, quiet);
        } catch (...) {
            // No memory for the timer heap's slot: no trim, nothing else lost.
        }
    }

private:
    static void fire(net::timer_hook& h) {
        auto& t = static_cast<burst_trim&>(h);
        auto const since = t.armed_on_->now() - t.last_open_;
        if (since < quiet) {
            // Still in the burst: look again a second after its last session.
            t.start(*t.armed_on_, std::chrono::ceil<std::chrono::milliseconds>(quiet - since));
            return;
        }
        ::malloc_trim(0);
    }

    net::loop* armed_on_ = nullptr;
    net::clock::time_point last_open_{};
};

} // namespace

void session_opened(net::loop& l) noexcept {
    thread_local burst_trim trim;
    trim.opened(l);
}

} // namespace upshift::ws::detail
