-- bench/register.lua: POST users/ with an email never used before, every time.
--   wrk -s bench/register.lua URL -- prefix=P
--
-- The address is <P>-<time>-t<thread>-<counter>@example.com: the prefix
-- names the run and the phase, the time and thread id keep two wrk runs with
-- one prefix apart, the counter keeps one thread's requests apart. run.py
-- afterwards counts the .eml files sent to addresses starting with <P>.

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

function init(args)
  local a = parse_args(args)
  common_init(a)
  prefix = string.format("%s-%d-t%d-", a.prefix, os.time(), tid)
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"email":"%s%d@example.com","terms_accepted":true}', prefix, counter))
end

function response(status, headers, body)
  count(status, body)
end
