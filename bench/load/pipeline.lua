-- wrk script: each write carries `depth` requests back to back (HTTP/1.1 pipelining, RFC 9112 §9.3.2),
-- so the server must parse several requests out of one read and answer them in order.
-- Usage: wrk -s bench/load/pipeline.lua URL -- [depth]   (default depth 16)

local batch

function init(args)
    local depth = tonumber(args[1]) or 16
    local one = wrk.format(nil, nil) -- method and path from the URL given to wrk
    batch = string.rep(one, depth)
end

function request()
    return batch
end
