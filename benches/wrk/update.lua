-- action=update&add_ips with one new address per request, spread over the
-- records with IDs 1 to `ids` (at most 4,096).
--
--   wrk -t2 -c32 -d10s -s benches/wrk/update.lua URL -- prefix=40 threads=2 ids=1000
--
-- Request n of thread t is update g = n * threads + t. It adds to record
-- r = g mod ids the address <prefix>.0.0.0 + 4096 * r + k, with
-- k = floor(g / ids) mod 4096. Each record's added addresses are contiguous,
-- so they merge into one growing range instead of fragmenting the record.
-- After 4,096 updates of one record the addresses repeat, and the update
-- changes nothing but still runs the whole update path. `threads` must equal
-- wrk's -t.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local SLOTS = 4096
local prefix, threads, ids
local sent = 0

function init(args)
   local options = common.options(args, { prefix = 40, threads = 1, ids = 1000 })
   prefix, threads, ids = options.prefix, options.threads, options.ids
   if ids > SLOTS then
      error("ids=" .. ids .. " is more than the " .. SLOTS .. " records this script can spread addresses over")
   end
end

function request()
   local update = sent * threads + thread_index
   sent = sent + 1
   local record = update % ids
   local slot = math.floor(update / ids) % SLOTS
   local address = prefix * 16777216 + record * SLOTS + slot
   return common.post("action=update&ids=" .. (record + 1) .. "&add_ips=" .. common.ip(address))
end

function response(status, headers, body)
   common.count(status, body)
end
