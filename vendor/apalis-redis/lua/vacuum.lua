-- KEYS[1]: the task data hash
-- KEYS[2]: the metadata prefix (e.g. "task_meta")
-- KEYS[3]: the done jobs set
-- KEYS[4]: the dead jobs set
-- ARGV[1]: the most tasks to remove in this call

-- Removes up to ARGV[1] finished tasks (data, metadata and result), taken
-- from the sets `handle_results` files every finished task in. A script
-- blocks every other client while it runs, so each call does a bounded
-- amount of work; the caller calls again until fewer are removed.
-- Returns: how many were removed

-- SPOP is not deterministic: replicate the script's effects, not the script
-- (needed before Redis 5, where it is the default).
redis.replicate_commands()

local result_hash = KEYS[2] .. ":result"
local limit = tonumber(ARGV[1])
local deleted = 0

for _, finished in ipairs({ KEYS[3], KEYS[4] }) do
  if deleted >= limit then
    break
  end
  local task_ids = redis.call("spop", finished, limit - deleted)
  for _, task_id in ipairs(task_ids) do
    redis.call("hdel", KEYS[1], task_id)
    redis.call("hdel", result_hash, task_id)
    redis.call("del", KEYS[2] .. ":" .. task_id)
    deleted = deleted + 1
  end
end

return deleted
