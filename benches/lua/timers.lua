-- A timer wheel's core as a Lua program: a binary min-heap of (deadline, sequence) with
-- lazy cancellation, driven by a virtual clock. Each tick schedules timers with pseudo-
-- random delays, cancels some, and fires every expired one in (deadline, sequence) order.
-- Runs unchanged on lua5.4 and luajit (no integer division, no bit operators).
local N = 400000          -- timers scheduled
local PER_TICK = 4
local dl, sq = {}, {}     -- the heap: deadlines and sequence numbers
local size = 0
local cancelled = {}
local seed = 12345

local function rand(n)
  seed = (seed * 16807) % 2147483647
  return seed % n
end

local function less(i, j)
  local a, b = dl[i], dl[j]
  return a < b or (a == b and sq[i] < sq[j])
end

local function swap(i, j)
  dl[i], dl[j] = dl[j], dl[i]
  sq[i], sq[j] = sq[j], sq[i]
end

local function push(d, s)
  size = size + 1
  dl[size], sq[size] = d, s
  local i = size
  while i > 1 do
    local p = math.floor(i / 2)
    if less(i, p) then swap(i, p); i = p else break end
  end
end

local function pop()
  local d, s = dl[1], sq[1]
  dl[1], sq[1] = dl[size], sq[size]
  dl[size], sq[size] = nil, nil
  size = size - 1
  local i = 1
  while true do
    local l = i * 2
    local r = l + 1
    local m = i
    if l <= size and less(l, m) then m = l end
    if r <= size and less(r, m) then m = r end
    if m == i then break end
    swap(i, m)
    i = m
  end
  return d, s
end

local now, seq, fired, check = 0, 0, 0, 0
local last_d, last_s = -1, -1
while seq < N or size > 0 do
  now = now + 1
  for _ = 1, PER_TICK do
    if seq < N then
      seq = seq + 1
      push(now + rand(1000), seq)
      if seq % 5 == 0 then cancelled[seq - rand(4)] = true end
    end
  end
  while size > 0 and dl[1] <= now do
    local d, s = pop()
    assert(d > last_d or (d == last_d and s > last_s), "out of order")
    last_d, last_s = d, s
    if cancelled[s] then
      cancelled[s] = nil
    else
      fired = fired + 1
      check = (check * 31 + s) % 1000000007
    end
  end
end
print("fired", fired, "checksum", check, "ticks", now)
