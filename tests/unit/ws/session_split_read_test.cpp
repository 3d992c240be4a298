// Large messages whose bytes reach the session in reads of every size: the session delivers a
// message read whole in its thread's read buffer where it lies, copies the first piece of a
// larger frame into the message buffer, reads the rest of a large frame's payload straight into
// that buffer, and keeps an incomplete header between reads (src/ws/session.cpp). Each of these
// paths, and every switch between them, must give the same echo. The reads are cut by a
// transport that hands out at most N bytes per read, N following a schedule, so the cuts fall
// inside headers, right after them, around the direct-read threshold (8 KiB) and around the
// read buffer's size (256 KiB), deterministically.
#include <gtest/gtest.h>

#include <cstring>

#include "ws_loops.hpp"

namespace upshift::test {
namespace {

using ws::opcode;
using ws::test::frame;

/// Forwards to the socket, but each read returns at most the next size of `schedule` (cycled;
/// 0: as much as asked). What it drained from the socket beyond that it holds and announces
/// through pending(), as TLS does with a decrypted record.
struct schedule_stream final : net::stream {
    schedule_stream(net::fd s, std::vector<std::size_t> sizes) : inner(std::move(s)), holder(std::move(sizes)) {}

    net::io_result read(std::span<char> buf) override { return holder.read(inner, buf); }
    std::size_t pending() const noexcept override { return holder.pending(); }
    net::io_result writev(std::span<iovec const> bufs) override { return inner.writev(bufs); }
    int native_handle() const noexcept override { return inner.native_handle(); }
    void shutdown_write() noexcept override { inner.shutdown_write(); }
    void close() noexcept override { inner.close(); }

    net::tcp_stream inner;
    piecewise_reader holder;
};

ws::behaviour echo() {
    ws::behaviour b;
    b.on_message = [](ws::session& s, std::string_view m, ws::message_kind k) { s.send(m, k); };
    return b;
}

struct expected_echo {
    int op;
    std::string payload;
};

/// What the client sends in one write, and the echoes it must get back in order: messages just
/// below, at and above the read buffer's size, text and binary, one fragmented around a Ping
/// (§5.4, §5.5.2), and small ones behind large ones so that a read ends inside the next frame.
struct burst {
    std::string bytes;
    std::vector<expected_echo> echoes;

    void message(opcode op, std::string payload) {
        bytes += frame(op, payload);
        echoes.push_back({static_cast<int>(op), std::move(payload)});
    }

    static burst standard() {
        constexpr std::size_t buffer = 256 * 1024;  // the session's thread read buffer
        burst b;
        b.message(opcode::binary, payload_of(64 * 1024, false, 1));          // the bench's message
        b.message(opcode::text, payload_of(64 * 1024, true, 2));             // UTF-8 checked in pieces
        b.message(opcode::binary, payload_of(buffer - 14, false, 3));        // header + payload = buffer
        b.message(opcode::binary, payload_of(buffer - 13, false, 4));        // one byte over
        b.message(opcode::text, "between");
        b.message(opcode::binary, payload_of((1u << 20) + 3, false, 5));     // several direct reads
        b.message(opcode::binary, payload_of(9000, false, 6));               // just above direct_read_min
        // §5.4: a fragmented text message with a Ping between its fragments (§5.5.2: answered
        // with a Pong in between, the message echoed whole once it ends).
        std::string const part1 = payload_of(50000, true, 7), part2 = payload_of(70000, true, 8);
        b.bytes += frame(opcode::text, part1, {.fin = false});
        b.bytes += frame(opcode::ping, "p");
        b.echoes.push_back({op_pong, "p"});
        b.bytes += frame(opcode::continuation, part2);
        b.echoes.push_back({op_text, part1 + part2});
        b.message(opcode::binary, payload_of(3, false, 9));
        return b;
    }
};

/// Reads the echoes of `b` from `c`: each one whole (one frame, FIN set), same opcode, same bytes.
void expect_echoes(raw_client& c, burst const& b) {
    for (std::size_t i = 0; i < b.echoes.size(); ++i) {
        auto f = read_server_frame(c, 30s);
        ASSERT_TRUE(f) << "echo " << i << ": " << c.error();
        EXPECT_EQ(f->op, b.echoes[i].op) << "echo " << i;
        EXPECT_TRUE(f->fin) << "echo " << i;
        ASSERT_EQ(f->payload.size(), b.echoes[i].payload.size()) << "echo " << i;
        EXPECT_TRUE(f->payload == b.echoes[i].payload) << "echo " << i << " differs";
    }
}

class WsSessionSplitReadTest : public ws_loops_fixture,
                               public ::testing::WithParamInterface<std::vector<std::size_t>> {};

// RFC 6455 §5.2 (framing), §5.3 (each piece unmasked at its offset in the payload), §5.4 (a
// message reassembled from its fragments), §5.6 (text checked as UTF-8 across reads): every
// message comes back unchanged and in order however the reads cut the bytes.
TEST_P(WsSessionSplitReadTest, LargeMessagesEchoUnchangedWhateverTheReadSizes) {
    auto const schedule = GetParam();
    make_stream = [schedule](net::fd s) { return std::make_unique<schedule_stream>(std::move(s), schedule); };
    ASSERT_TRUE(start(1, {}, echo()));
    std::string name;
    auto c = connect_on(0, &name);
    auto const b = burst::standard();
    ASSERT_TRUE(c.send_all(b.bytes, 30s)) << c.error();
    expect_echoes(c, b);
    close_client(c, name);
}

INSTANTIATE_TEST_SUITE_P(
    ReadSizes, WsSessionSplitReadTest,
    ::testing::Values(std::vector<std::size_t>{0},                         // as much as there is
                      std::vector<std::size_t>{1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 65536},
                      std::vector<std::size_t>{14},                        // a 64-bit header's size
                      std::vector<std::size_t>{8191}, std::vector<std::size_t>{8206},
                      std::vector<std::size_t>{65535}, std::vector<std::size_t>{65550},
                      std::vector<std::size_t>{65551}, std::vector<std::size_t>{262143},
                      std::vector<std::size_t>{262144}, std::vector<std::size_t>{262145},
                      std::vector<std::size_t>{100000, 7}, std::vector<std::size_t>{10, 300000}));

// The same burst over a plain socket (the session's own read path, no stream object): the
// reads are cut wherever the loopback and the socket buffers cut them.
class WsSessionPlainReadTest : public ws_loops_fixture {};

TEST_F(WsSessionPlainReadTest, LargeMessagesEchoUnchangedOverAPlainSocket) {
    ASSERT_TRUE(start(1, {}, echo()));
    std::string name;
    auto c = connect_on(0, &name);
    auto const b = burst::standard();
    ASSERT_TRUE(c.send_all(b.bytes, 30s)) << c.error();
    expect_echoes(c, b);
    close_client(c, name);
}

} // namespace
} // namespace upshift::test
