/* mdm_store_int.h -- helpers shared by the files of libs/store only (never include it
 * from outside libs/store: nothing else may see hiredis). */
#ifndef MDM_STORE_INT_H
#define MDM_STORE_INT_H

#include <hiredis/hiredis.h>

#include "mdm_store.h"

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
