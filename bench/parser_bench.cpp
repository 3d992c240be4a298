// http1 parser throughput: bytes/s (SetBytesProcessed) and requests/s (SetItemsProcessed).
//   cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DUPSHIFT_BUILD_BENCH=ON -DUPSHIFT_BUILD_TESTS=OFF
//   cmake --build build/bench --target parser_bench && build/bench/bench/parser_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "upshift/http1/chunked_decoder.hpp"
#include "upshift/http1/request_parser.hpp"
#include "upshift/http1/response_parser.hpp"

namespace {

using namespace upshift::http1;

// What Chrome sends for a top-level navigation (15 field lines, ~700 bytes).
constexpr std::string_view chrome_get =
    "GET /articles/2024/05/http-parsing-performance?utm_source=newsletter&utm_medium=email HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n";

constexpr std::string_view curl_get =
    "GET / HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view post_json =
    "POST /api/v1/items HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: python-requests/2.31.0\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Accept: application/json\r\n"
    "Connection: keep-alive\r\n"
    "Content-Type: application/json\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc\r\n"
    "Content-Length: 27\r\n"
    "\r\n"
    "{\"name\":\"widget\",\"qty\":10}\n";

void parse_one(benchmark::State& state, std::string_view req) {
    request_parser p;
    for (auto _ : state) {
        p.reset();
        auto r = p.parse(req);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(p.head().fields.data());
        if (r.ec) state.SkipWithError("parse failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(req.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_request_chrome_get(benchmark::State& s) { parse_one(s, chrome_get); }
void BM_request_curl_get(benchmark::State& s) { parse_one(s, curl_get); }
void BM_request_post_content_length(benchmark::State& s) {
    // Head only: the body follows and is not the parser's business.
    parse_one(s, post_json.substr(0, post_json.find("\r\n\r\n") + 4));
}

void BM_request_pipelined(benchmark::State& state) {
    // 16 requests back to back in one buffer, as a pipelining client sends them.
    std::string batch;
    for (int i = 0; i < 8; ++i) {
        batch += chrome_get;
        batch += curl_get;
    }
    request_parser p;
    for (auto _ : state) {
        std::string_view rest = batch;
        while (!rest.empty()) {
            p.reset();
            auto r = p.parse(rest);
            if (r.ec) {
                state.SkipWithError("parse failed");
                break;
            }
            rest.remove_prefix(r.consumed);
        }
        benchmark::DoNotOptimize(rest);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(batch.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 16);
}

void BM_request_chrome_get_bytewise(benchmark::State& state) {
    // Worst-case arrival: one byte per read (checks the O(n) resume path).
    request_parser p;
    for (auto _ : state) {
        p.reset();
        parse_result r;
        for (std::size_t n = 1; n <= chrome_get.size(); ++n) r = p.parse(chrome_get.substr(0, n));
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(chrome_get.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_response_typical(benchmark::State& state) {
    constexpr std::string_view resp =
        "HTTP/1.1 200 OK\r\n"
        "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        "Server: upshift\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Length: 1256\r\n"
        "Cache-Control: max-age=600\r\n"
        "ETag: \"5d8c72a5edda8\"\r\n"
        "Vary: Accept-Encoding\r\n"
        "\r\n";
    response_parser p;
    for (auto _ : state) {
        p.reset();
        auto r = p.parse(resp);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(resp.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_chunked_decode(benchmark::State& state) {
    // 64 chunks of state.range(0) bytes, then the last chunk.
    auto const chunk = static_cast<std::size_t>(state.range(0));
    std::string body;
    char hex[32];
    for (int i = 0; i < 64; ++i) {
        int const n = std::snprintf(hex, sizeof hex, "%zx\r\n", chunk);
        body.append(hex, static_cast<std::size_t>(n));
        body.append(chunk, 'x');
        body += "\r\n";
    }
    body += "0\r\n\r\n";
    chunked_decoder d;
    for (auto _ : state) {
        d.reset();
        std::string_view rest = body;
        while (!d.done()) {
            auto st = d.decode(rest);
            benchmark::DoNotOptimize(st.data);
            if (st.ec) {
                state.SkipWithError("decode failed");
                break;
            }
            rest.remove_prefix(st.consumed);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 64);
}

} // namespace

BENCHMARK(BM_request_chrome_get);
BENCHMARK(BM_request_curl_get);
BENCHMARK(BM_request_post_content_length);
BENCHMARK(BM_request_pipelined);
BENCHMARK(BM_request_chrome_get_bytewise);
BENCHMARK(BM_response_typical);
BENCHMARK(BM_chunked_decode)->Arg(16)->Arg(1024)->Arg(16384);

BENCHMARK_MAIN();
