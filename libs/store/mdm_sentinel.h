/* mdm_sentinel.h -- Redis Sentinel support for mdm_store: finds the current master through
 * the sentinels, follows a failover, and makes writes wait for a replica (WAIT).
 *
 * URL: redis-sentinel://[:password@]host1:port1[,host2:port2...]/<master-name>[/db]
 *      [?wait_replicas=N&wait_ms=T]
 * The password is the one of the Redis master and replicas (AUTH); it is also sent to a
 * sentinel that answers NOAUTH. A host without a port means 26379.
 *
 * Consistency: Redis replicates asynchronously, so a write the master acknowledged can be
 * lost if the master dies before a replica has it and the replica is promoted. In sentinel
 * mode every write command (anything not in this module's list of read-only commands, so a
 * new store function is covered by default) is followed by `WAIT wait_replicas wait_ms`
 * (defaults 1 and 1000 ms; wait_ms at most 1500, under the store's 2 s read timeout). If
 * fewer replicas confirm it, the store reports MDM_E_UNAVAILABLE: the caller never
 * acknowledges a write that only the master holds. wait_replicas=0 turns WAIT off.
 *
 * Only libs/store uses this module (it includes hiredis types by forward declaration). */
#ifndef MDM_SENTINEL_H
#define MDM_SENTINEL_H

#include <stddef.h>

#include "mdm_err.h"

struct redisContext;
struct redisReply;

typedef struct mdm_sentinel_t mdm_sentinel_t;

#define MDM_SENTINEL_MAX 16           /* sentinel addresses in one URL */
#define MDM_SENTINEL_DEFAULT_PORT 26379

/* Parses a redis-sentinel:// URL (above). The password (if any) is copied into
 * password[pw_cap] and the database number into *db, as the store needs them for the
 * master connection. NULL with MDM_E_BAD_REQUEST on a malformed URL. Does not connect. */
mdm_sentinel_t *mdm_sentinel_new(const char *url, char *password, size_t pw_cap, int *db,
				 mdm_err_t *err);
void mdm_sentinel_destroy(mdm_sentinel_t **self);

/* What the URL said (tests, logs). index < mdm_sentinel_count(). */
size_t mdm_sentinel_count(const mdm_sentinel_t *self);
const char *mdm_sentinel_host(const mdm_sentinel_t *self, size_t index);
int mdm_sentinel_port(const mdm_sentinel_t *self, size_t index);
const char *mdm_sentinel_master_name(const mdm_sentinel_t *self);
int mdm_sentinel_wait_replicas(const mdm_sentinel_t *self);
int mdm_sentinel_wait_ms(const mdm_sentinel_t *self);

/* The master's address: the cached one, or else each sentinel in turn is asked
 * `SENTINEL get-master-addr-by-name <name>` (300 ms connect, 500 ms read timeout); the
 * first that knows the master wins and is asked first next time. 0 and host/port set, or
 * -1 (logged) when no sentinel answers. The answer is cached until mdm_sentinel_forget. */
int mdm_sentinel_master(mdm_sentinel_t *self, char *host, size_t cap, int *port);

/* Checks with ROLE, on an authenticated connection to the address from
 * mdm_sentinel_master, that the server really is a master (a sentinel may still name the
 * old master during a failover). 0 if so; otherwise -1, logged, and the cache is dropped. */
int mdm_sentinel_verify(mdm_sentinel_t *self, struct redisContext *c);

/* Drops the cached master: the next mdm_sentinel_master asks the sentinels again. Called
 * on a connection error or a READONLY reply. */
void mdm_sentinel_forget(mdm_sentinel_t *self);

/* 1 if a reply is the error a demoted master (now a replica) gives to writes: -READONLY,
 * also when raised inside a Lua script. The command did not run; retry on the master. */
int mdm_sentinel_is_readonly(const struct redisReply *r);

/* Called after a command ran (reply not an error): for a write command, WAIT for
 * wait_replicas replicas up to wait_ms. 0 if confirmed (or nothing to wait for); -1,
 * logged, when fewer replicas confirmed it in time or the connection broke. */
int mdm_sentinel_wait(mdm_sentinel_t *self, struct redisContext *c, int argc, const char **argv,
		      const size_t *lens);

#endif
