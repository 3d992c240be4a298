// The connection's write queue: order, partial writes, and memory proportional to what is queued.
#include <gtest/gtest.h>

#include <string>

#include "upshift/net/send_queue.hpp"

namespace upshift::net {
namespace {

std::string drain(send_queue& q, std::size_t step) {
    std::string out;
    while (!q.empty()) {
        iovec iov[16];
        int n = q.fill(iov, 16);
        std::size_t take = step;
        for (int i = 0; i < n && take > 0; ++i) {
            auto len = std::min(take, iov[i].iov_len);
            out.append(static_cast<char const*>(iov[i].iov_base), len);
            take -= len;
        }
        q.consume(step - take);
    }
    return out;
}

TEST(SendQueue, KeepsOrderAcrossCopiedAndMovedPieces) {
    send_queue q;
    q.append(std::string_view("head "));
    q.append(std::string(20'000, 'b'));  // moved
    q.append(std::string_view(" tail"));
    EXPECT_EQ(q.size(), 5u + 20'000u + 5u);
    auto out = drain(q, 777);
    EXPECT_EQ(out, "head " + std::string(20'000, 'b') + " tail");
    EXPECT_TRUE(q.empty());
}

// A slow reader and a producer that refills at half the high-water mark: the queue never empties,
// yet the memory it holds stays near what is queued (it used to keep every byte ever appended).
TEST(SendQueue, MemoryStaysBoundedWhenTheQueueNeverEmpties) {
    send_queue q;
    constexpr std::size_t high_water = 1 << 20;
    std::string const chunk(64 * 1024, 'x');
    std::size_t max_held = 0, sent = 0;
    while (sent < (256u << 20)) {
        while (q.size() < high_water) q.append(std::string_view(chunk));
        iovec iov[16];
        int n = q.fill(iov, 16);
        std::size_t take = std::min<std::size_t>(iov[0].iov_len, 48 * 1024);
        (void)n;
        q.consume(take);
        sent += take;
        max_held = std::max(max_held, q.memory_held());
    }
    EXPECT_LT(max_held, 3 * high_water) << "held " << max_held << " bytes for " << q.size() << " queued";
}

TEST(SendQueue, ShrinkFreesEverythingWhenEmpty) {
    send_queue q;
    q.append(std::string_view(std::string(1000, 'a')));
    q.consume(1000);
    q.shrink();
    EXPECT_EQ(q.memory_held(), 0u);
}

} // namespace
} // namespace upshift::net

namespace upshift::net {
namespace {

// A WebSocket session drops queued frames when it fails a slow reader (1008) but must finish
// the frame that is partly on the wire: units never straddle pieces, so dropping is per unit.
TEST(SendQueue, DropUnstartedKeepsAPartlyWrittenUnitWhole) {
    send_queue q;
    q.append_unit({"AAAA", "aaaa"});
    q.append_unit({"BBBB", std::string(send_queue::coalesce_limit, 'b')});
    q.append_unit({"CCCC", "cccc"});
    iovec iov[4];
    ASSERT_GE(q.fill(iov, 4), 1);
    q.consume(3);  // "AAA" is out: the first piece has started
    q.drop_unstarted();
    // The started piece stays whole (every unit coalesced into it); nothing after it.
    std::string const rest = drain(q, 7);
    EXPECT_EQ(rest.substr(0, 5), "Aaaaa");
    EXPECT_EQ(rest.size(), 5 + 4 + send_queue::coalesce_limit);
    EXPECT_EQ(rest.find('C'), std::string::npos);
}

TEST(SendQueue, DropUnstartedDropsEverythingWhenNothingWentOut) {
    send_queue q;
    q.append_unit({"AAAA", "aaaa"});
    q.append_unit({"BBBB", "bbbb"});
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
}

TEST(SendQueue, AStartedUnitIsNeverDropped) {
    send_queue q;
    q.append_unit({"rest-of-frame"}, /*started=*/true);  // its head was written directly
    q.append_unit({"next"});
    q.drop_unstarted();
    EXPECT_EQ(drain(q, 100), "rest-of-frame");
}

TEST(SendQueue, UnitsDoNotStraddlePieces) {
    send_queue q;
    q.append_unit({std::string(send_queue::coalesce_limit, 'x')});  // fills the coalescing piece
    q.append_unit({"HH", "pp"});                                     // starts a new piece, whole
    iovec iov[4];
    ASSERT_EQ(q.fill(iov, 4), 2);
    EXPECT_EQ(std::string_view(static_cast<char const*>(iov[1].iov_base), iov[1].iov_len), "HHpp");
}

} // namespace
} // namespace upshift::net
