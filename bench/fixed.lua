-- bench/fixed.lua: the same request over and over (wrk pre-formats it once).
--   wrk -s bench/fixed.lua URL -- expect=2xx [method=POST] [body=JSON] [token=ACCESS]
-- body is sent as application/json; token as "Authorization: Bearer <token>".

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

function init(args)
  local a = parse_args(args)
  common_init(a)
  wrk.method = a.method or "GET"
  if a.body then
    wrk.body = a.body
    wrk.headers["Content-Type"] = "application/json"
  end
  if a.token then wrk.headers["Authorization"] = "Bearer " .. a.token end
end

function response(status, headers, body)
  count(status, body)
end
