-- bench/server.lua - wrk script of bench/server.sh.
--
--   wrk -s server.lua URL                      GET URL (nginx's static file)
--   wrk -s server.lua URL -- USERS SIZE [N]    POST /messages as many users
--
-- USERS is a file of "NAME TOKEN" lines (bench/server_users.py). Each
-- request is sent by one user to another, rotating over every pair in a
-- fixed shuffled order, so the load looks like many users, not one; SIZE
-- is the length of the message string; N (default 0) gives another
-- order, for two wrk at once. The requests are made once, in
-- init, so that wrk spends its time sending, not building them.
-- done() prints one line "JSON {...}" for bench/server_report.py.

local threads = {}
local nthreads = 0

function setup(thread)
	thread:set("id", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

local reqs = nil
local n, i = 0, 0

function init(args)
	if args[1] == nil then
		return
	end
	local users = {}
	for line in io.lines(args[1]) do
		local name, token = line:match("^(%S+) (%S+)$")
		if name then
			table.insert(users, { name = name, token = token })
		end
	end
	local size = tonumber(args[2] or "200")
	local other = tonumber(args[3] or "0")
	-- A message that looks like base64url ciphertext.
	local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	math.randomseed(1000 + id + 100 * other)
	local m = {}
	for k = 1, size do
		local c = math.random(1, #chars)
		m[k] = chars:sub(c, c)
	end
	local msg = table.concat(m)
	reqs = {}
	local u = #users
	for s = 1, u do
		for k = 1, 4 do
			-- Recipient: another user, a different one for each k.
			local r = (s - 1 + k * 7 + id * 13) % u + 1
			if r == s then r = r % u + 1 end
			local body = '{"to":"' .. users[r].name .. '","message":"' ..
			    msg .. '"}'
			table.insert(reqs, wrk.format("POST", "/messages", {
				["Content-Type"] = "application/json",
				["x-access-token"] = users[s].token,
			}, body))
		end
	end
	-- A fixed shuffle: consecutive requests come from different users.
	for k = #reqs, 2, -1 do
		local j = math.random(1, k)
		reqs[k], reqs[j] = reqs[j], reqs[k]
	end
	n = #reqs
	i = (id * 97 + other * 31) % n
end

function request()
	if reqs == nil then
		return wrk.request()
	end
	i = i % n + 1
	return reqs[i]
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('JSON {"requests":%d,"duration_us":%d,' ..
	    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
	    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
	    '"mean_us":%.1f,"max_us":%d}\n',
	    summary.requests, summary.duration, e.connect, e.read, e.write,
	    e.status, e.timeout, latency:percentile(50),
	    latency:percentile(90), latency:percentile(99),
	    latency:percentile(99.9), latency.mean, latency.max))
end
