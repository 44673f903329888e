-- POST /api/auth/login with a JSON body. Arguments (after `--`): email, password.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function init(args)
  wrk.method = "POST"
  wrk.path = "/api/auth/login"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"email":' .. quote(args[1]) .. ',"password":' .. quote(args[2]) .. "}"
end

done = report.done
