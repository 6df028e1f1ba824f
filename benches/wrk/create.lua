-- action=create with a unique title and three unused IP ranges per request.
--
--   wrk -t2 -c32 -d10s -s benches/wrk/create.lua URL -- prefix=11 threads=2 [limit=N]
--
-- Request n of thread t creates record g = n * threads + t, titled
-- "c<prefix>-<g>", holding offsets 0-2, 4-6 and 8-10 of the 16-address block
-- that starts at <prefix>.0.0.0 + 16 * g. One first octet holds 1,048,576
-- such blocks; later records spill into the next octet, so runs that must not
-- overlap take prefixes far enough apart. `threads` must equal wrk's -t.
--
-- With limit=N the run stops after exactly N creates in total. A thread that
-- has sent its share sends health checks until its last create response is in,
-- then stops, so no create is cut off in flight. Each thread's first request
-- is a health check too.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local BLOCK = 16
local prefix, threads, quota
local sent = 0
local create_responses = 0
local first_call = true

function init(args)
   local options = common.options(args, { prefix = 11, threads = 1, limit = 0 })
   prefix, threads = options.prefix, options.threads
   if options.limit > 0 then
      quota = math.floor(options.limit / threads)
      if thread_index < options.limit % threads then
         quota = quota + 1
      end
   end
end

function request()
   -- wrk 4 calls request() once in thread 0 before the run to inspect the
   -- script, and never sends that request. Making every thread's first
   -- request a health check keeps that call from using up a create.
   if quota and (first_call or sent >= quota) then
      first_call = false
      return common.health()
   end
   local record = sent * threads + thread_index
   sent = sent + 1
   local start = prefix * 16777216 + record * BLOCK
   local ips = common.ip(start) .. "-" .. common.ip(start + 2) .. ","
      .. common.ip(start + 4) .. "-" .. common.ip(start + 6) .. ","
      .. common.ip(start + 8) .. "-" .. common.ip(start + 10)
   return common.post("action=create&title=c" .. prefix .. "-" .. record
      .. "&username=bench&password=pw&ips=" .. ips)
end

function response(status, headers, body)
   if quota and body:sub(1, 1) ~= "<" then
      -- A health check response (JSON) while the last creates are in flight.
      return
   end
   common.count(status, body)
   create_responses = create_responses + 1
   if quota and create_responses >= quota then
      wrk.thread:stop()
   end
end
