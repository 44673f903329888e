-- POST /api/orders as a pool of buyers over a pool of products, one new Idempotency-Key each.
--
-- Arguments (after `--`): a file of lines `token <access token>` and `product <uuid>`, a run
-- nonce (keeps keys unique across runs), and optionally the most orders each thread sends
-- (the thread stops after that many replies, bounding the backlog the saga must drain).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local tokens, products = {}, {}
local nonce, limit = "run", 0
local sent, replies = 0, 0

function init(args)
  for line in io.lines(args[1]) do
    local kind, value = line:match("^(%a+) (.+)$")
    if kind == "token" then
      tokens[#tokens + 1] = "Bearer " .. value
    elseif kind == "product" then
      products[#products + 1] = value
    end
  end
  nonce = args[2] or nonce
  limit = tonumber(args[3] or "0")
end

function request()
  sent = sent + 1
  local n = sent + thread_number * 7919
  local body = string.format(
    '{"items":[{"product_id":"%s","quantity":1}],"payment_method":"pm_card_visa"}',
    products[n % #products + 1]
  )
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = tokens[n % #tokens + 1],
    ["Idempotency-Key"] = string.format("wrk-%s-%d-%d", nonce, thread_number, sent),
  }
  return wrk.format("POST", "/api/orders", headers, body)
end

function response(status, headers, body)
  replies = replies + 1
  if limit > 0 and replies >= limit then
    wrk.thread:stop()
  end
end

done = report.done
