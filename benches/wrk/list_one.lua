-- action=list of one record by ID, cycling through IDs 1 to `ids`.
--
--   wrk -t2 -c32 -d10s -s benches/wrk/list_one.lua URL -- ids=1000

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local ids
local sent = 0

function init(args)
   ids = common.options(args, { ids = 1000 }).ids
end

function request()
   -- Threads start at different IDs so they do not ask for the same record.
   local id = 1 + (thread_index * 7919 + sent) % ids
   sent = sent + 1
   return common.get("action=list&ids=" .. id)
end

function response(status, headers, body)
   common.count(status, body)
end
