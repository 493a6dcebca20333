/* mdm_store_int.h -- helpers shared by the files of libs/store only (never include it
 * from outside libs/store: nothing else may see hiredis). */
#ifndef MDM_STORE_INT_H
#define MDM_STORE_INT_H

#include <hiredis/hiredis.h>

#include "mdm_store.h"

#include "mdm_keys.h"

/* Lua shared by every script that writes a device record (enroll, unenroll, update, the
 * index rebuild), so the filter indexes and the device counters change in the same atomic
 * step as the record. Prepend it to a script:
 *   ix_get(key)        the indexed fields of a device hash (nil when absent), and its
 *                      enrollment time (the score of every index);
 *   ix_move(id, o, n)  moves the device between index sorted sets and counters for every
 *                      field that differs between o and n (two ix_get results);
 *   ix_id(key)         the device id of a device key.
 * The indexes are sorted sets scored like mdm:devices (enrollment time), so a search walks
 * the smallest one in listing order. A missing old record ({}) adds the device; counters
 * never go below zero (HDEL at 0). */
#define MDM_STORE_IX_LUA                                                                     \
	"local function ix_id(k) return string.sub(k, #'" MDM_KEY_DEVICE_PREFIX "' + 1) end\n"   \
	"local function ix_get(k)\n"                                                         \
	"  local v = redis.call('HMGET', k, 'state', 'platform', 'user', 'os_version',\n"   \
	"    'device_name', 'last_seen', 'enrolled_at')\n"                                   \
	"  return {state = v[1] or nil, platform = v[2] or nil,\n"                           \
	"    user = v[3] and string.lower(v[3]) or nil, os = v[4] or nil, name = v[5] or nil,\n" \
	"    seen = v[6] and tonumber(v[6]) or nil, at = v[7] and tonumber(v[7]) or 0}\n"   \
	"end\n"                                                                              \
	"local function ix_move(id, o, n)\n"                                                 \
	"  for _, f in ipairs({'state', 'platform', 'user', 'os'}) do\n"                     \
	"    if o[f] ~= n[f] then\n"                                                         \
	"      if o[f] then redis.call('ZREM', '" MDM_KEY_IDX_PREFIX "' .. f .. ':' .. o[f], id) end\n" \
	"      if f == 'state' or f == 'platform' then\n"                                    \
	"        local ck = '" MDM_KEY_STATS_PREFIX "' .. f\n"                               \
	"        if o[f] and redis.call('HINCRBY', ck, o[f], -1) <= 0 then redis.call('HDEL', ck, o[f]) end\n" \
	"        if n[f] then redis.call('HINCRBY', ck, n[f], 1) end\n"                      \
	"      end\n"                                                                        \
	"    end\n"                                                                          \
	"    if n[f] and (o[f] ~= n[f] or o.at ~= n.at) then\n"                              \
	"      redis.call('ZADD', '" MDM_KEY_IDX_PREFIX "' .. f .. ':' .. n[f], n.at, id)\n"  \
	"    end\n"                                                                          \
	"  end\n"                                                                            \
	"  if o.name ~= n.name or not o.state then\n"                                        \
	"    redis.call('HSET', '" MDM_KEY_IDX_NAME "', id, string.lower(id .. '\\n' .. (n.name or '')))\n" \
	"  end\n"                                                                            \
	"  if o.seen ~= n.seen then\n"                                                       \
	"    if n.seen then redis.call('ZADD', '" MDM_KEY_IDX_SEEN "', n.seen, id)\n"        \
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
