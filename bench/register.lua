-- wrk script: POST /api/v1/users with a new address on every request.
-- wrk ... -s bench/register.lua URL -- RUN_TAG
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
local prefix = "w"

function init(args)
  prefix = (args[1] or "w") .. "-" .. tostring(thread_id or 0)
end

function request()
  counter = counter + 1
  local address = prefix .. "-" .. counter .. "@example.org"
  local body = '{"name":"Load","email":"' .. address .. '","password":"benchmark-password"}'
  return wrk.format("POST", "/api/v1/users", { ["Content-Type"] = "application/json" }, body)
end
