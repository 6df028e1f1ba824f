-- A mixed workload of create, list, update and delete, for the mixed scenario
-- of scripts/bench and for scripts/soak.
--
--   wrk -t2 -c32 -d60s -s benches/wrk/mix.lua URL -- threads=2 [key=value ...]
--
-- Each request picks an action at random (seeded per thread, so runs repeat)
-- with these default weights, in percent:
--
--   create     20  unique title, three unused ranges (as create.lua, prefix 30)
--   delete     20  the oldest record this thread created and has not yet
--                  deleted, or a list_one when there is none
--   list_one   35  one of the records with IDs 1 to `ids`
--   update     20  add_ips on one of the records with IDs 1 to `ids` (as
--                  update.lua, prefix 50)
--   list_page   2  the first page of 1,000 records
--   conflict    3  a create whose IP is held by a seed record, which the
--                  mock rejects with Qualys code 1920
--
-- Creates and deletes have equal weights, so the store stays near its
-- starting size however long the run lasts. Before the run, create.lua with
-- prefix=<seed_prefix> and limit of at least `ids` must have created the
-- records with IDs 1 to `ids` on a fresh mock: they hold the addresses
-- <seed_prefix>.0.0.0 + 16 * r for r below `ids`, which conflicts reuse.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local ACTIONS = { "create", "delete", "list_one", "update", "list_page", "conflict" }

-- Per-thread counts of the actions sent, summed into the result line.
for _, action in ipairs(ACTIONS) do
   _G["sent_" .. action] = 0
   table.insert(common.extra_counters, "sent_" .. action)
end
created_count = 0
deleted_count = 0
table.insert(common.extra_counters, "created_count")
table.insert(common.extra_counters, "deleted_count")

local BLOCK = 16
local SLOTS = 4096
local ADDRESSES_PER_PREFIX = 16777216
local options
local cumulative = {}
local total_weight = 0
local counters = { create = 0, update = 0, conflict = 0, list_one = 0 }
-- IDs this thread created, oldest first, waiting to be deleted.
local created = {}
local created_head, created_tail = 1, 0

function init(args)
   options = common.options(args, {
      threads = 1, ids = 1000, seed_prefix = 10, create_prefix = 30, update_prefix = 50,
      create = 20, delete = 20, list_one = 35, update = 20, list_page = 2, conflict = 3,
   })
   if options.ids > SLOTS then
      error("ids=" .. options.ids .. " is more than the " .. SLOTS .. " records updates can spread addresses over")
   end
   for _, action in ipairs(ACTIONS) do
      total_weight = total_weight + options[action]
      table.insert(cumulative, { action = action, bound = total_weight })
   end
   math.randomseed(1000 + thread_index)
end

local function next_number(action)
   local n = counters[action] * options.threads + thread_index
   counters[action] = counters[action] + 1
   return n
end

local function pick_action()
   local draw = math.random() * total_weight
   for _, entry in ipairs(cumulative) do
      if draw < entry.bound then
         return entry.action
      end
   end
   return cumulative[#cumulative].action
end

local function create_request()
   -- One prefix has room for 2^20 records. Past that, addresses wrap around,
   -- and by then the records that used them have long been deleted.
   local record = next_number("create") % 1048576
   local start = options.create_prefix * ADDRESSES_PER_PREFIX + record * BLOCK
   local ips = common.ip(start) .. "-" .. common.ip(start + 2) .. ","
      .. common.ip(start + 4) .. "-" .. common.ip(start + 6) .. ","
      .. common.ip(start + 8) .. "-" .. common.ip(start + 10)
   return common.post("action=create&title=m" .. options.create_prefix .. "-" .. record
      .. "&username=bench&password=pw&ips=" .. ips)
end

local function list_one_request()
   local id = 1 + (thread_index * 7919 + next_number("list_one")) % options.ids
   return common.get("action=list&ids=" .. id)
end

local function update_request()
   local update = next_number("update")
   local record = update % options.ids
   local slot = math.floor(update / options.ids) % SLOTS
   local address = options.update_prefix * ADDRESSES_PER_PREFIX + record * SLOTS + slot
   return common.post("action=update&ids=" .. (record + 1) .. "&add_ips=" .. common.ip(address))
end

local function conflict_request()
   local n = next_number("conflict")
   local record = n % options.ids
   local address = options.seed_prefix * ADDRESSES_PER_PREFIX + record * BLOCK
   return common.post("action=create&title=x-" .. n .. "&username=bench&password=pw&ips="
      .. common.ip(address))
end

local first_call = true

function request()
   -- wrk 4 calls request() once in thread 0 before the run to inspect the
   -- script, and never sends that request. A health check as every thread's
   -- first request keeps that call out of the action counts.
   if first_call then
      first_call = false
      return common.health()
   end
   local action = pick_action()
   if action == "delete" and created_head > created_tail then
      action = "list_one"
   end
   _G["sent_" .. action] = _G["sent_" .. action] + 1
   if action == "create" then
      return create_request()
   elseif action == "delete" then
      local id = created[created_head]
      created[created_head] = nil
      created_head = created_head + 1
      return common.post("action=delete&ids=" .. id)
   elseif action == "list_one" then
      return list_one_request()
   elseif action == "update" then
      return update_request()
   elseif action == "list_page" then
      return common.get("action=list")
   else
      return conflict_request()
   end
end

function response(status, headers, body)
   if body:sub(1, 1) == "{" then
      -- The health check of the first request.
      return
   end
   common.count(status, body)
   if status ~= 200 or #body > 2048 then
      return
   end
   local id = body:match("Successfully Created.-<ID>(%d+)</ID>")
   if id then
      created_count = created_count + 1
      created_tail = created_tail + 1
      created[created_tail] = id
   elseif body:find("Successfully Deleted", 1, true) then
      deleted_count = deleted_count + 1
   end
end
