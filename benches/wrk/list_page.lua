-- action=list with no filter but id_min: one page of the default page size
-- (1,000 records), starting at ID `id_min`.
--
--   wrk -t2 -c32 -d10s -s benches/wrk/list_page.lua URL -- [id_min=1]

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local query

function init(args)
   local id_min = common.options(args, { id_min = 1 }).id_min
   query = "action=list"
   if id_min > 1 then
      query = query .. "&id_min=" .. id_min
   end
end

function request()
   return common.get(query)
end

function response(status, headers, body)
   common.count(status, body)
end
