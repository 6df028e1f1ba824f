-- Helpers shared by the wrk scripts in this folder: request headers, option
-- parsing, IPv4 formatting, per-thread status counters and the one-line
-- result that scripts/bench and scripts/soak parse.
--
-- Each script loads this file with dofile() from its own folder, so wrk can
-- be started from any working directory.

local common = {}

common.path = "/api/2.0/fo/auth/vmware/"

-- Basic credentials "bench:bench"; the mock accepts any credentials unless
-- it runs with --user.
local get_headers = {
   ["Authorization"] = "Basic YmVuY2g6YmVuY2g=",
   ["X-Requested-With"] = "wrk",
}
local post_headers = {
   ["Authorization"] = "Basic YmVuY2g6YmVuY2g=",
   ["X-Requested-With"] = "wrk",
   ["Content-Type"] = "application/x-www-form-urlencoded",
}

-- Per-thread counters, read by done() through thread:get(). They are globals
-- because thread:get() reads only globals of the thread's Lua state.
ok_count = 0
conflict_count = 0
other_count = 0
blocked_count = 0
response_count = 0
body_bytes = 0

-- Names of extra per-thread counters a script wants summed into the result.
common.extra_counters = {}

function common.get(query)
   return wrk.format("GET", common.path .. "?" .. query, get_headers)
end

function common.post(body)
   return wrk.format("POST", common.path, post_headers, body)
end

function common.health()
   return wrk.format("GET", "/__admin/health", get_headers)
end

-- Parses wrk's trailing "key=value" arguments over the defaults. Every value
-- must be a number, since every option of these scripts is one.
function common.options(args, defaults)
   local options = {}
   for key, value in pairs(defaults) do
      options[key] = value
   end
   for _, arg in ipairs(args) do
      local key, value = arg:match("^([%w_]+)=(.*)$")
      if key == nil or defaults[key] == nil then
         error("unknown script argument '" .. arg .. "'; expected key=value with a key of the script's options")
      end
      local number = tonumber(value)
      if number == nil then
         error("script argument '" .. arg .. "' is not a number")
      end
      options[key] = number
   end
   return options
end

-- Formats a 32-bit address as a dotted quad.
function common.ip(address)
   local a = math.floor(address / 16777216) % 256
   local b = math.floor(address / 65536) % 256
   local c = math.floor(address / 256) % 256
   local d = address % 256
   return a .. "." .. b .. "." .. c .. "." .. d
end

-- Counts one response by status and body size. Besides the status, it counts
-- the short responses that carry Qualys code 1920 (blocked by an existing
-- record, such as an IP conflict), which the mock sends with status 200 in a
-- BATCH_RETURN.
function common.count(status, body)
   response_count = response_count + 1
   body_bytes = body_bytes + #body
   if status >= 200 and status < 300 then
      ok_count = ok_count + 1
   elseif status == 409 then
      conflict_count = conflict_count + 1
   else
      other_count = other_count + 1
   end
   if #body < 4096 and body:find("<CODE>1920</CODE>", 1, true) then
      blocked_count = blocked_count + 1
   end
end

-- Runs in wrk's main Lua state once per thread, before that thread's init().
local threads = {}
function common.setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

local function sum_counter(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
   end
   return total
end

-- Prints the WRK_RESULT line. Latencies are in milliseconds and durations in
-- seconds; wrk itself reports microseconds.
function common.done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local errors = summary.errors
   local responses = sum_counter("response_count")
   local fields = {
      string.format("requests=%d", summary.requests),
      string.format("duration_s=%.3f", seconds),
      string.format("rps=%.1f", summary.requests / seconds),
      string.format("p50_ms=%.3f", latency:percentile(50) / 1000),
      string.format("p99_ms=%.3f", latency:percentile(99) / 1000),
      string.format("max_ms=%.3f", latency.max / 1000),
      string.format("ok=%d", sum_counter("ok_count")),
      string.format("conflict=%d", sum_counter("conflict_count")),
      string.format("other=%d", sum_counter("other_count")),
      string.format("blocked=%d", sum_counter("blocked_count")),
      string.format("socket_errors=%d", errors.connect + errors.read + errors.write + errors.timeout),
      string.format("mean_body_bytes=%.0f", responses > 0 and sum_counter("body_bytes") / responses or 0),
   }
   for _, name in ipairs(common.extra_counters) do
      table.insert(fields, string.format("%s=%d", name, sum_counter(name)))
   end
   io.write("WRK_RESULT " .. table.concat(fields, " ") .. "\n")
end

return common
