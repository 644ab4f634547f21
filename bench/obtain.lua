-- bench/obtain.lua: POST token/obtain/ with the right password of a seeded user.
--   wrk -s bench/obtain.lua URL -- users=N user_format=FMT password=P threads=T
--
-- FMT is a string.format pattern taking the user's index (0..N-1), e.g.
-- "bench-user-%04d@example.com". Thread t cycles through the users t, t+T,
-- t+2T, ...: with N at least twice the connections, no user has two logins
-- in flight, so the per-email login limit (API.md §4) never counts more than
-- one pending attempt per user.

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

function init(args)
  local a = parse_args(args)
  common_init(a)
  local nthreads = tonumber(a.threads)
  prepared = {}
  for i = tid, tonumber(a.users) - 1, nthreads do
    local body = string.format('{"email":"%s","password":"%s"}',
                               string.format(a.user_format, i), a.password)
    prepared[#prepared + 1] = wrk.format("POST", nil,
                                         { ["Content-Type"] = "application/json" }, body)
  end
  next_request = 0
end

function request()
  next_request = next_request % #prepared + 1
  return prepared[next_request]
end

function response(status, headers, body)
  count(status, body)
end
