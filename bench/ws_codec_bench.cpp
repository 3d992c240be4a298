// ws codec throughput: UTF-8 validation, unmasking, frame parsing (bytes/s and frames/s).
//   cmake -S . -B build/ws-bench -DCMAKE_BUILD_TYPE=Release -DUPSHIFT_BUILD_BENCH=ON -DUPSHIFT_BUILD_TESTS=OFF
//   cmake --build build/ws-bench --target ws_codec_bench && build/ws-bench/bench/ws_codec_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "upshift/ws/frame_parser.hpp"
#include "upshift/ws/mask.hpp"
#include "upshift/ws/utf8.hpp"

namespace {

using namespace upshift::ws;

constexpr std::size_t text_size = 64 * 1024;

std::string repeat_to(std::string_view unit, std::size_t n) {
    std::string s;
    while (s.size() + unit.size() <= n) s += unit;
    return s;
}

// English chat-like text: ASCII only.
std::string const ascii_text = repeat_to(
    "{\"type\":\"message\",\"room\":\"general\",\"user\":\"alice\",\"text\":\"The quick brown fox jumps over the lazy dog.\"}\n",
    text_size);
// The same JSON shape with European accents, Greek, CJK and an emoji in each record (~20% non-ASCII bytes).
std::string const mixed_text = repeat_to(
    "{\"type\":\"message\",\"user\":\"Zo\xc3\xab\",\"text\":\"Caf\xc3\xa9 na\xc3\xafve \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 "
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 ok\"}\n",
    text_size);
// Only 3-byte code points (CJK): the worst case for the DFA.
std::string const cjk_text = repeat_to("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe4\xb8\xad\xe6\x96\x87", text_size);

void utf8(benchmark::State& state, std::string const& text) {
    if (!is_valid_utf8(text)) {
        state.SkipWithError("bench text is not valid UTF-8");
        return;
    }
    for (auto _ : state) {
        utf8_validator v;
        bool ok = v.feed(text);
        benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
}

void BM_Utf8Ascii(benchmark::State& state) { utf8(state, ascii_text); }
void BM_Utf8Mixed(benchmark::State& state) { utf8(state, mixed_text); }
void BM_Utf8Cjk(benchmark::State& state) { utf8(state, cjk_text); }
BENCHMARK(BM_Utf8Ascii);
BENCHMARK(BM_Utf8Mixed);
BENCHMARK(BM_Utf8Cjk);

// Unmasking a payload of range(0) bytes in place; offset 1 starts mid-key and off word alignment.
void BM_Unmask(benchmark::State& state) {
    std::vector<char> buf(static_cast<std::size_t>(state.range(0)) + 16, 'x');
    auto const offset = static_cast<std::size_t>(state.range(1));
    std::span<char> data(buf.data() + offset, static_cast<std::size_t>(state.range(0)));
    masking_key const key{0x37, 0xfa, 0x21, 0x3d};
    for (auto _ : state) {
        apply_mask(data, key, offset);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Unmask)->Args({125, 0})->Args({4096, 0})->Args({4096, 1})->Args({64 * 1024, 0})->Args({64 * 1024, 1});

std::string client_frame(std::uint8_t first_byte, std::size_t n) {
    std::string f;
    f += static_cast<char>(first_byte);
    if (n <= 125) {
        f += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        f += static_cast<char>(0x80 | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xFF);
    }
    f += "\x37\xfa\x21\x3d";
    f += std::string(n, 'p');
    return f;
}

// A read buffer of back-to-back small binary frames (range(0) payload bytes each),
// parsed frame by frame as a session would: header, unmask, deliver.
void BM_ParseSmallFrames(benchmark::State& state) {
    auto const payload = static_cast<std::size_t>(state.range(0));
    std::string stream;
    std::size_t frames = 0;
    while (stream.size() < 64 * 1024) {
        stream += client_frame(0x82, payload);
        ++frames;
    }
    for (auto _ : state) {
        frame_parser p;
        std::span<char> rest(stream);
        for (;;) {
            auto const st = p.parse(rest);
            if (st.ec) break;
            benchmark::DoNotOptimize(st.payload.data());
            rest = rest.subspan(st.consumed);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_ParseSmallFrames)->Arg(0)->Arg(16)->Arg(125);

// One large binary frame: header parse plus in-place unmasking of 64 KiB.
void BM_ParseLargeFrame(benchmark::State& state) {
    std::string stream = client_frame(0x82, 64 * 1024);
    for (auto _ : state) {
        frame_parser p;
        auto const st = p.parse(stream);
        benchmark::DoNotOptimize(st.payload.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_ParseLargeFrame);

// A 64 KiB text frame: header, unmask and UTF-8 validation together (the frame is
// re-masked each round, which costs one more unmask pass).
void BM_ParseTextFrame(benchmark::State& state) {
    std::string const& text = state.range(0) == 0 ? ascii_text : mixed_text;
    std::string frame = client_frame(0x81, text.size());
    std::size_t const header = frame.size() - text.size();
    frame.replace(header, text.size(), text);
    masking_key const key{0x37, 0xfa, 0x21, 0x3d};
    std::span<char> payload(frame.data() + header, text.size());
    apply_mask(payload, key);
    for (auto _ : state) {
        frame_parser p;
        auto const st = p.parse(frame);
        if (st.ec || !st.message_done) {
            state.SkipWithError("text frame did not parse");
            break;
        }
        apply_mask(payload, key);  // mask again for the next round
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ParseTextFrame)->Arg(0)->Arg(1);

} // namespace

BENCHMARK_MAIN();
