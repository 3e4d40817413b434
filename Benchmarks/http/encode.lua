-- wrk script: POST one 784-float row to the encode endpoint.
--
-- The model path comes from the environment (SAED_ENCODE_PATH, e.g. /v1/models/ID/encode).
-- The row is fixed, so every request does the same work: values i/784 for i in 0..<784.
local path = os.getenv("SAED_ENCODE_PATH") or "/v1/models/unknown/encode"

local values = {}
for i = 0, 783 do
    values[#values + 1] = string.format("%.4f", i / 784)
end
local body = '{"inputs": [[' .. table.concat(values, ",") .. ']]}'

wrk.method = "POST"
wrk.path = path
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

-- wrk counts answers other than 2xx/3xx; any at all would make the figures meaningless.
function done(summary, latency, requests)
    local non2xx = summary.errors.status or 0
    if non2xx > 0 then
        io.write(string.format("WARNING: %d encode responses were not 2xx\n", non2xx))
    end
end
