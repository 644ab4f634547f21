-- bench/refresh.lua: POST token/refresh/ with a refresh token that has never
-- been presented, every time.
--   wrk -s bench/refresh.lua URL -- tokens=FILE threads=N
--
-- FILE holds one refresh token per line, from token/obtain/ (one login, hence
-- one token family, per line); thread t takes lines t, t+N, t+2N, ... Each
-- 200 answer carries the next token of that family, which goes back into the
-- thread's pool for the next request: every token is presented exactly once,
-- and the number of families stays at the number of lines (one per connection
-- when FILE has as many lines as wrk has connections). A request that fails
-- loses its family; when the pool is empty the request goes out with a
-- placeholder token (counted as "starved", and answered 401).

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

function init(args)
  local a = parse_args(args)
  common_init(a)
  local nthreads = tonumber(a.threads)
  pool = {}
  local line_no = 0
  for line in io.lines(a.tokens) do
    if line ~= "" then
      if line_no % nthreads == tid then pool[#pool + 1] = line end
      line_no = line_no + 1
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  -- wrk calls request() once on thread 0 before the run, only to check the
  -- request's syntax, and never sends that one: it must not take a token.
  syntax_check_pending = tid == 0
end

local function body_for(token)
  return wrk.format(nil, nil, nil, '{"refresh":"' .. token .. '"}')
end

function request()
  if syntax_check_pending then
    syntax_check_pending = false
    return body_for("syntax-check")
  end
  local token = table.remove(pool)
  if not token then
    starved = starved + 1
    token = "starved"
  end
  return body_for(token)
end

function response(status, headers, body)
  if count(status, body) then
    local next_token = body:match('"refresh":"([^"]+)"')
    if next_token then
      pool[#pool + 1] = next_token
    else
      -- 200 without a refresh token: not what the contract promises.
      ok = ok - 1
      unexpected = unexpected + 1
      if not sample then sample = status .. " " .. body:sub(1, 200) end
    end
  end
end
