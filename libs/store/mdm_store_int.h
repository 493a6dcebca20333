/* mdm_store_int.h -- helpers shared by the files of libs/store only (never include it
 * from outside libs/store: nothing else may see hiredis). */
#ifndef MDM_STORE_INT_H
#define MDM_STORE_INT_H

#include <hiredis/hiredis.h>

#include "mdm_store.h"

#include "mdm_keys.h"

/* Lua shared by every script that writes a device record (enroll, unenroll, update,
 * management save, the index migration), so the filter indexes and the device counters
 * change in the same atomic step as the record (key layout: mdm_keys.h). Prepend it to a
 * script:
 *   ix_get(key)        the indexed fields of a device hash (nil when absent), the
 *                      device's number `dn` (its mdm:devices score; nil when it has none,
 *                      or a layout-1 enrollment time not migrated yet) and `c`, whether
 *                      the counters hold it (a number, or a layout-1 record once layout 1
 *                      was complete: version 1);
 *   ix_move(id, a, b)  moves the device between counters for every field that differs
 *                      between a and b (two ix_get results), and between indexes for every
 *                      field that differs or all of them when its number changed
 *                      (re-enrollment). Only a record with a number is indexed: a missing
 *                      old record ({}) adds the device. Counters never go below zero
 *                      (HDEL at 0);
 *   ix_id(key)         the device id of a device key;
 *   ix_reserve()       creates the device number counter if needed, above any number in
 *                      use, first reserving one number per layout-1 device (they are
 *                      numbered below the new ones);
 *   ix_number()        the next device number (after ix_reserve()).
 * An index is a sorted set (member id, score dn) until it holds more than IX_ZMAX members
 * and one number in IX_DENSE has it; then it becomes a bitmap of numbers. */
#define MDM_STORE_IX_LUA                                                                     \
	"local IX_D, IX_N = '" MDM_KEY_DEVICES "', '" MDM_KEY_DEVICE_NUMBER "'\n"            \
	"local IX_ZMAX, IX_DENSE, IX_OLD = 128, 256, 1e9\n"                                  \
	"local function ix_id(k) return string.sub(k, #'" MDM_KEY_DEVICE_PREFIX "' + 1) end\n"   \
	"local function ix_get(k)\n"                                                         \
	"  local v = redis.call('HMGET', k, 'state', 'platform', 'user', 'os_version', 'last_seen')\n" \
	"  local dn = redis.call('ZSCORE', IX_D, ix_id(k))\n"                                \
	"  dn = dn and tonumber(dn)\n"                                                       \
	"  local c = dn ~= nil\n"                                                            \
	"  if dn and dn >= IX_OLD then\n"                                                    \
	"    dn = nil\n"                                                                     \
	"    c = tonumber(redis.call('GET', '" MDM_KEY_IDX_VERSION "') or '0') >= 1\n"       \
	"  end\n"                                                                            \
	"  return {s = v[1] or nil, p = v[2] or nil, u = v[3] and string.lower(v[3]) or nil,\n" \
	"    o = v[4] or nil, seen = v[5] and tonumber(v[5]) or nil, dn = dn, c = c}\n"      \
	"end\n"                                                                              \
	"local function ix_reserve()\n"                                                      \
	"  if redis.call('EXISTS', IX_N) == 0 then\n"                                        \
	"    local top = redis.call('ZREVRANGEBYSCORE', IX_D, '(' .. IX_OLD, '-inf',\n"      \
	"      'WITHSCORES', 'LIMIT', 0, 1)[2]\n"                                            \
	"    local base = tonumber(top or '0')\n"                                            \
	"    local m = redis.call('ZCOUNT', IX_D, IX_OLD, '+inf')\n"                         \
	"    redis.call('SET', IX_N, base + m)\n"                                            \
	"    redis.call('SET', '" MDM_KEY_DEVICE_NUMBER_RES "', base + m)\n"                 \
	"    redis.call('SET', '" MDM_KEY_DEVICE_NUMBER_OLD "', base)\n"                     \
	"  end\n"                                                                            \
	"end\n"                                                                              \
	"local function ix_number() return redis.call('INCR', IX_N) end\n"                   \
	"local function ix_add(k, id, dn)\n"                                                 \
	"  if redis.call('TYPE', k).ok == 'string' then redis.call('SETBIT', k, dn, 1) return end\n" \
	"  redis.call('ZADD', k, dn, id)\n"                                                  \
	"  local n = redis.call('ZCARD', k)\n"                                               \
	"  if n > IX_ZMAX and n * IX_DENSE >= tonumber(redis.call('GET', IX_N) or '0') then\n" \
	"    local m = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')\n"                       \
	"    redis.call('DEL', k)\n"                                                         \
	"    for i = 2, #m, 2 do redis.call('SETBIT', k, m[i], 1) end\n"                     \
	"  end\n"                                                                            \
	"end\n"                                                                              \
	"local function ix_del(k, id, dn)\n"                                                 \
	"  if redis.call('TYPE', k).ok == 'string' then\n"                                   \
	"    redis.call('SETBIT', k, dn, 0)\n"                                               \
	"    if redis.call('BITPOS', k, 1) < 0 then redis.call('DEL', k) end\n"              \
	"  else redis.call('ZREM', k, id) end\n"                                             \
	"end\n"                                                                              \
	"local IX_COUNT = {s = 'state', p = 'platform'}\n"                                   \
	"local function ix_move(id, a, b)\n"                                                 \
	"  for _, f in ipairs({'s', 'p', 'u', 'o'}) do\n"                                    \
	"    local ac, bc = a.c and a[f], b.c and b[f]\n"                                    \
	"    if IX_COUNT[f] and ac ~= bc then\n"                                             \
	"      local ck = '" MDM_KEY_STATS_PREFIX "' .. IX_COUNT[f]\n"                       \
	"      if ac and redis.call('HINCRBY', ck, ac, -1) <= 0 then redis.call('HDEL', ck, ac) end\n" \
	"      if bc then redis.call('HINCRBY', ck, bc, 1) end\n"                            \
	"    end\n"                                                                          \
	"    local av, bv = a.dn and a[f], b.dn and b[f]\n"                                  \
	"    if av ~= bv or a.dn ~= b.dn then\n"                                             \
	"      if av then ix_del('" MDM_KEY_IDX_PREFIX "' .. f .. ':' .. av, id, a.dn) end\n" \
	"      if bv then ix_add('" MDM_KEY_IDX_PREFIX "' .. f .. ':' .. bv, id, b.dn) end\n" \
	"    end\n"                                                                          \
	"  end\n"                                                                            \
	"  if a.seen ~= b.seen then\n"                                                       \
	"    if b.seen then redis.call('ZADD', '" MDM_KEY_IDX_SEEN "', b.seen, id)\n"        \
	"    else redis.call('ZREM', '" MDM_KEY_IDX_SEEN "', id) end\n"                      \
	"  end\n"                                                                            \
	"end\n"

/* Lua: st_bump(what, now) counts one event in the hourly bucket "<what>:h:<hour start>"
 * (kept 50 hours) and, when day is true, the daily one "<what>:d:<day start>" (kept 32
 * days): GET /stats reads 48 hours and 30 days. */
#define MDM_STORE_STATS_LUA                                                                  \
	"local function st_bump(what, now, day)\n"                                           \
	"  local t = tonumber(now)\n"                                                        \
	"  local kh = '" MDM_KEY_STATS_PREFIX "' .. what .. ':h:' .. (t - t % 3600)\n"       \
	"  redis.call('INCR', kh)\n"                                                         \
	"  redis.call('EXPIRE', kh, 180000)\n"                                               \
	"  if day then\n"                                                                    \
	"    local kd = '" MDM_KEY_STATS_PREFIX "' .. what .. ':d:' .. (t - t % 86400)\n"    \
	"    redis.call('INCR', kd)\n"                                                       \
	"    redis.call('EXPIRE', kd, 2764800)\n"                                            \
	"  end\n"                                                                            \
	"end\n"

/* Runs one command (argv form); reconnects once on a broken connection, then
 * MDM_E_UNAVAILABLE (NULL). Error replies are returned for the caller to interpret. */
redisReply *mdm_store__cmdv(mdm_store_t *self, mdm_err_t *err, int argc, const char **argv,
			    const size_t *lens);
/* 1 (and err set to MDM_E_INTERNAL, logged) if r is an error reply. */
int mdm_store__is_error(redisReply *r, mdm_err_t *err);
/* Maps a Lua script's error reply ("SPENT ...", "NOTFOUND ...", ...) onto our codes; -1. */
int mdm_store__script_error(redisReply *r, mdm_err_t *err);
void mdm_store__lower(char *dst, size_t cap, const char *src);
/* HGETALL reply -> flat JSON object of strings (caller owns). */
json_t *mdm_store__hash_to_json(redisReply *r);

#endif
