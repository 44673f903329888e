-- GET /api/catalog/products?q=...: each request takes the next query of the argument list.
--
-- Arguments (after `--`): the queries, e.g. `-- "wireless headphones" coffee lamp`. Without
-- arguments every request is the plain listing (newest first).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local queries = {}
local index = 0

local function encode(text)
  return (text:gsub("[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  for _, q in ipairs(args) do
    queries[#queries + 1] = "/api/catalog/products?limit=20&q=" .. encode(q)
  end
end

function request()
  if #queries == 0 then
    return wrk.format("GET", "/api/catalog/products?limit=20")
  end
  index = index % #queries + 1
  return wrk.format("GET", queries[index])
end

done = report.done
