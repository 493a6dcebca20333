/* sml.h -- the syncml service: OMA-DM (SyncML 1.2) management sessions over mutual TLS. */
#ifndef SML_H
#define SML_H

#include "mdm_store.h"
#include "mdm_worker.h"

typedef struct {
	char redis_url[512];
	char provider_id[64];
	long session_ttl;      /* seconds a session's state lives in Redis */
	long default_max_msg;  /* MaxMsgSize assumed when the device sends none */
	long command_ttl;      /* lifetime of the inventory command queued at first contact */
} sml_config_t;

typedef struct {
	sml_config_t *cfg;
	mdm_store_t *store;
} sml_t;

int sml_start(sml_config_t *cfg, sml_t **out);
void sml_stop(sml_t **self);

/* One device message in, one server message out (see sml_session.c). */
int sml_manage(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

#endif
