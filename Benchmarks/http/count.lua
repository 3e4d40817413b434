-- wrk script: GET wrk.path until this thread has received its share of responses, then stop.
--
-- The share is SAED_REQUESTS (total) divided by SAED_THREADS, so a run ends after a fixed
-- number of requests instead of a fixed time (wrk's -d still bounds it).
local total = tonumber(os.getenv("SAED_REQUESTS") or "1000000")
local threads = tonumber(os.getenv("SAED_THREADS") or "2")
local share = math.ceil(total / threads)
local received = 0

function response(status, headers, body)
    received = received + 1
    if received >= share then
        wrk.thread:stop()
    end
end
