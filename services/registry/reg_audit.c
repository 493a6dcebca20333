/* reg_audit.c -- the audit log (written by the dispatcher in reg_api.c after every change
 * and every login attempt; read by GET /audit, never changed through the API) and GET
 * /stats, read from counters the store keeps as things happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdm_log.h"
#include "reg.h"

/* The change already happened when this runs: an audit write that fails is logged (with
 * everything it would have recorded) rather than turned into an error for the caller. */
void reg_audit_write(reg_t *self, const char *action, int status)
{
	reg_call_t *c = &self->call;
	const char *addr = mdm_req_header(c->req, "remote_addr");
	json_t *detail = c->detail ? json_copy(c->detail) : json_object();
	json_object_set_new(detail, "status", json_integer(status));
	json_t *ev = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s}", "at", (json_int_t)time(NULL),
			       "actor", c->actor[0] ? c->actor : "unknown", "role",
			       reg_role_name(c->role), "action", action, "target", c->target,
			       "detail", detail, "remote_addr", addr ? addr : "");
	mdm_err_t err = {0};
	if (ev == NULL || mdm_store_audit_add(self->store, ev, self->cfg->audit_maxlen, &err) != 0) {
		char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
		log_err("audit: cannot record %s: %s", text ? text : action,
			ev ? err.text : "out of memory");
		free(text);
	}
	json_decref(ev);
}

/* GET /audit?actor=&action=&since=&until=&cursor=&limit= */
int reg_audit_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_audit_filter_t f = {0};
	char *actor = reg_query(req, "actor"), *action = reg_query(req, "action");
	char *cursor = reg_query(req, "cursor");
	if (reg_query_long(req, rep, "limit", 50, 1, 500, &f.limit) ||
	    reg_query_long(req, rep, "since", 0, 0, 99999999999L, &f.since) ||
	    reg_query_long(req, rep, "until", 0, 0, 99999999999L, &f.until))
		goto done;
	f.actor = actor && actor[0] ? actor : NULL;
	f.action = action && action[0] ? action : NULL;
	f.cursor = cursor && cursor[0] ? cursor : NULL;
	mdm_err_t err = {0};
	json_t *page = mdm_store_audit_list(self->store, &f, &err);
	if (page)
		mdm_reply_json(rep, 200, page);
	else
		mdm_reply_error(rep, &err);
done:
	free(actor);
	free(action);
	free(cursor);
	return 0;
}

int reg_stats(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *s = mdm_store_stats(self->store, time(NULL), &err);
	if (s)
		mdm_reply_json(rep, 200, s);
	else
		mdm_reply_error(rep, &err);
	return 0;
}
