/* sml_session.c -- one management message: bind the TLS client certificate to an enrolled
 * device, answer every device command with its Status (SyncHdr first, then in the device's
 * order), correlate the device's Statuses and Results with queued commands by (MsgRef,
 * CmdRef), then send what the queue holds within the device's MaxMsgSize.
 *
 * A device runs one session at a time: its state (SessionID, server MsgID, what was sent
 * under which (MsgID, CmdID), the last answer for retries, a large object being
 * reassembled) lives in Redis under the device, so any instance can take any message of a
 * session; a new SessionID replaces the old state. */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_cert.h"
#include "mdm_cmd.h"
#include "mdm_log.h"
#include "mdm_syncml.h"
#include "sml.h"

#define SML_CT_XML "application/vnd.syncml.dm+xml"
#define SML_CT_WBXML "application/vnd.syncml.dm+wbxml"
#define SML_MARGIN 256             /* room kept for the closing tags and Final */
#define SML_LO_MAX (4 * 1024 * 1024) /* largest object a device may send in chunks */
#define SML_STATE_KEY "live"        /* one live session per device */
#define SML_UNENROLL_TYPE "com.microsoft:mdm.unenrollment.userrequest"
#define SML_PENDING_TYPE "com.microsoft.mdm.requestpending"

/* DevInfo nodes kept on the device record (package 1 of every session). */
static const char *s_devinfo[] = {"DevId", "Man", "Mod", "DmV", "Lang", NULL};

typedef struct {
	sml_t *sml;
	char device_id[129];
	char thumbprint[41]; /* the TLS certificate: a session belongs to one certificate */
	json_t *device;   /* the device record */
	mdm_sml_msg_t *in;
	json_t *state;    /* session state (owned) */
	json_t *touched;  /* command ids that got a Status in this message */
	mdm_sml_writer_t *w;
	long max_msg;
	int ended;        /* unenrolled or aborted: no commands */
	int lo_pending;   /* a large object is being received: no new commands */
	int pending_alert; /* the device works on a slow command (requestpending) */
	int sent_cmds;    /* commands put into this answer */
	size_t base_size; /* an answer holding only the SyncHdr Status */
	json_t *update;   /* device fields to write (DevInfo, inventory, last seen) */
	long queued;      /* commands in the device's queue (0: the queue is not read) */
	time_t now;
} s_ctx_t;

static void s_plain(mdm_reply_t *rep, int status, const char *text)
{
	mdm_reply_set(rep, status, "text/plain; charset=utf-8", text, strlen(text));
	if (status == 503)
		mdm_reply_header(rep, "Retry-After", "5");
}

static void s_err_reply(mdm_reply_t *rep, const mdm_err_t *err)
{
	int status = err->code == MDM_E_UNAVAILABLE ? 503 : mdm_code_http_status(err->code);
	log_info("management request refused (%d): %s", status, err->text);
	s_plain(rep, status, err->text);
}

/* The gateway verified the chain against our CA (and its validity when the connection was
 * made) and passes its SHA-1 thumbprint; here the certificate must still be the active one
 * of an enrolled device (not superseded by a renewal, not revoked, not expired since).
 * Takes the device record out of `ld`. */
static int s_bind(s_ctx_t *c, mdm_mgmt_load_t *ld, mdm_err_t *err)
{
	if (ld->cert == NULL)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is unknown");
	const char *state = json_string_value(json_object_get(ld->cert, "state"));
	const char *dev = json_string_value(json_object_get(ld->cert, "device_id"));
	const char *na = json_string_value(json_object_get(ld->cert, "not_after"));
	if (dev == NULL || state == NULL || strcmp(state, "active") != 0)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is %s",
				   state ? state : "unknown");
	if (na && strtoll(na, NULL, 10) <= (long long)c->now)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is not valid now");
	snprintf(c->device_id, sizeof c->device_id, "%s", dev);
	c->device = ld->device;
	ld->device = NULL;
	if (c->device == NULL)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "device is unknown");
	const char *dstate = json_string_value(json_object_get(c->device, "state"));
	if (dstate == NULL || strcmp(dstate, "enrolled") != 0)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "device is %s",
				   dstate ? dstate : "unknown");
	return 0;
}

static long s_state_int(s_ctx_t *c, const char *key)
{
	return (long)json_integer_value(json_object_get(c->state, key));
}

static json_t *s_state_obj(s_ctx_t *c, const char *key)
{
	json_t *o = json_object_get(c->state, key);
	if (o == NULL) {
		o = json_object();
		json_object_set_new(c->state, key, o);
	}
	return o;
}

static int s_is_ok(int code)
{
	return code >= 200 && code < 300;
}

/* "<MsgRef>:<CmdRef>"; a Status/Results without MsgRef refers to our last message. */
static void s_key(s_ctx_t *c, const mdm_sml_cmd_t *cmd, char *key, size_t cap)
{
	if (cmd->msg_ref && *cmd->msg_ref)
		snprintf(key, cap, "%s:%s", cmd->msg_ref, cmd->cmd_ref ? cmd->cmd_ref : "?");
	else
		snprintf(key, cap, "%ld:%s", s_state_int(c, "server_msg"),
			 cmd->cmd_ref ? cmd->cmd_ref : "?");
}

/* A device Status: recorded under the (MsgRef, CmdRef) it answers; a command's outcome is
 * decided once the whole message is read (s_finish_touched), so the order in which a
 * device reports an Atomic/Sequence and its children does not matter. */
static void s_on_status(s_ctx_t *c, const mdm_sml_cmd_t *st)
{
	if (st->cmd_ref == NULL || !strcmp(st->cmd_ref, "0"))
		return; /* the device's Status for our SyncHdr */
	char key[80];
	s_key(c, st, key, sizeof key);
	const char *id = json_string_value(json_object_get(s_state_obj(c, "sent"), key));
	if (id == NULL) {
		log_info("device %s: Status for %s which we never sent (ignored)", c->device_id, key);
		return;
	}
	char code[8];
	snprintf(code, sizeof code, "%d", st->data ? atoi(st->data) : 500);
	json_t *codes = s_state_obj(c, "codes");
	const char *prev = json_string_value(json_object_get(codes, key));
	/* several Statuses for one command (one per item): the first failure wins */
	if (prev == NULL || s_is_ok(atoi(prev)))
		json_object_set_new(codes, key, json_string(code));
	json_object_set_new(c->touched, id, json_true());
}

/* The outcome of one command: every SyncML command it was made of (top-level and nested)
 * answered 2xx → done; else failed with the most telling code (a child's own failure
 * rather than the 507/216 "rolled back" markers of an Atomic). It is decided when the
 * top-level command has its Status. */
static void s_decide(s_ctx_t *c, const char *id)
{
	json_t *keys = json_object_get(s_state_obj(c, "parts"), id);
	json_t *tops = json_object_get(s_state_obj(c, "tops"), id);
	json_t *codes = s_state_obj(c, "codes");
	size_t i;
	json_t *k;
	if (keys == NULL || json_array_size(tops) == 0)
		return;
	json_array_foreach(tops, i, k) if (json_object_get(codes, json_string_value(k)) == NULL) return;
	/* every top-level command has its Status */
	const char *worst = NULL, *marker = NULL, *last = NULL;
	json_array_foreach(keys, i, k)
	{
		const char *code = json_string_value(json_object_get(codes, json_string_value(k)));
		if (code == NULL)
			continue;
		last = code;
		int v = atoi(code);
		if (s_is_ok(v))
			continue;
		if (v == 507 || v == 216 || v == 215) {
			if (marker == NULL)
				marker = code;
		} else if (worst == NULL) {
			worst = code;
		}
	}
	const char *final = worst ? worst : marker ? marker : last;
	char idc[64], fc[8];
	snprintf(idc, sizeof idc, "%s", id);
	snprintf(fc, sizeof fc, "%s", final ? final : "500");
	mdm_err_t err = {0};
	if (mdm_store_cmd_finish(c->sml->store, idc, s_is_ok(atoi(fc)), fc, NULL, c->now, &err) != 0)
		log_warn("device %s: cannot record status of %s: %s", c->device_id, idc, err.text);
	json_array_foreach(keys, i, k) json_object_del(codes, json_string_value(k));
	json_object_del(s_state_obj(c, "parts"), idc);
	json_object_del(s_state_obj(c, "tops"), idc);
}

static void s_finish_touched(s_ctx_t *c)
{
	const char *id;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(c->touched, tmp, id, v) s_decide(c, id);
}

static json_t *s_item_json(const mdm_sml_item_t *it, const char *data)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s}", "target", it->source ? it->source : it->target,
			 "format", it->format, "type", it->type, "data", data ? data : "");
}

/* Inventory: values read under ./DevDetail are kept on the device as inv_<path>. */
static void s_note_inventory(s_ctx_t *c, const mdm_sml_item_t *it, const char *data)
{
	const char *t = it->source ? it->source : it->target;
	if (t == NULL || strncmp(t, "./DevDetail/", 12) != 0 || data == NULL || strlen(data) > 256 ||
	    strlen(t) > 80 || json_object_size(c->update) >= 48)
		return;
	char field[128] = "inv_";
	size_t n = 4;
	for (const char *p = t + 12; *p && n + 1 < sizeof field; p++)
		field[n++] = (*p == '/') ? '_' : (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	field[n] = '\0';
	if (n > 64)
		return; /* the record takes names of at most 64 bytes */
	json_object_set_new(c->update, field, json_string(data));
	json_object_set_new(c->update, "inventory_at", json_integer(c->now));
}

/* Chunked item (MoreData): appended to the one large object the session may hold, which
 * belongs to one (MsgRef, CmdRef) of ours; its size is announced on the first chunk and
 * checked on the last. Returns the Status code for this item. */
static const char *s_on_chunk(s_ctx_t *c, const char *key, const char *id,
			      const mdm_sml_item_t *it, json_t *out)
{
	json_t *lo = json_object_get(c->state, "lo");
	const char *lo_key = lo ? json_string_value(json_object_get(lo, "key")) : NULL;
	if (lo && strcmp(lo_key, key) != 0)
		return "400"; /* one large object at a time */
	if (lo == NULL) {
		if (!it->more_data)
			return NULL; /* not a large object */
		if (it->size <= 0)
			return "411"; /* first chunk must announce the size */
		if (it->size > SML_LO_MAX)
			return "413";
		lo = json_pack("{s:s,s:s,s:I,s:s,s:b}", "key", key, "command", id, "size",
			       (json_int_t)it->size, "data", "", "failed", 0);
		json_object_set_new(c->state, "lo", lo);
	}
	const char *sofar = json_string_value(json_object_get(lo, "data"));
	size_t add = it->data ? strlen(it->data) : 0, total = strlen(sofar) + add;
	json_int_t want = json_integer_value(json_object_get(lo, "size"));
	int failed = json_is_true(json_object_get(lo, "failed"));
	if (!failed && total > (size_t)want) {
		json_object_set_new(lo, "failed", json_true()); /* refuse the rest of it */
		json_object_set_new(lo, "data", json_string(""));
		failed = 1;
	}
	if (!failed) {
		char *joined = malloc(total + 1);
		if (joined == NULL)
			return "500";
		memcpy(joined, sofar, total - add);
		memcpy(joined + total - add, it->data ? it->data : "", add);
		joined[total] = '\0';
		json_object_set_new(lo, "data", json_string(joined));
		free(joined);
	}
	if (it->more_data) {
		c->lo_pending = 1;
		return failed ? "424" : "213";
	}
	/* last chunk */
	const char *code = "200";
	if (failed || (json_int_t)strlen(json_string_value(json_object_get(lo, "data"))) != want) {
		log_warn("device %s: large object for %s does not match its size %lld", c->device_id,
			 key, (long long)want);
		code = "424";
	} else {
		const char *data = json_string_value(json_object_get(lo, "data"));
		json_array_append_new(out, s_item_json(it, data));
		s_note_inventory(c, it, data);
	}
	json_object_del(c->state, "lo");
	return code;
}

/* Results (answers to our Get, also nested in a Sequence): stored on the command.
 * Returns the status code to answer the Results with. */
static const char *s_on_results(s_ctx_t *c, const mdm_sml_cmd_t *res)
{
	char key[80];
	s_key(c, res, key, sizeof key);
	const char *found = json_string_value(json_object_get(s_state_obj(c, "sent"), key));
	if (found == NULL) {
		log_info("device %s: Results for %s which we never asked (ignored)", c->device_id, key);
		return "200";
	}
	char id[64];
	snprintf(id, sizeof id, "%s", found);
	json_t *out = json_array();
	const char *code = "200";
	for (size_t i = 0; i < res->n_items; i++) {
		const mdm_sml_item_t *it = &res->items[i];
		const char *chunk = s_on_chunk(c, key, id, it, out);
		if (chunk) {
			if (strcmp(chunk, "200") != 0)
				code = chunk;
			continue;
		}
		json_array_append_new(out, s_item_json(it, it->data));
		s_note_inventory(c, it, it->data);
	}
	if (json_array_size(out)) {
		mdm_err_t err = {0};
		if (mdm_store_cmd_add_results(c->sml->store, id, out, &err) != 0)
			log_warn("device %s: cannot store results: %s", c->device_id, err.text);
	}
	json_decref(out);
	return code;
}

static const char *s_first_target(const mdm_sml_cmd_t *cmd)
{
	return cmd->n_items ? cmd->items[0].target : NULL;
}

static const char *s_first_source(const mdm_sml_cmd_t *cmd)
{
	return cmd->n_items ? cmd->items[0].source : NULL;
}

/* Package 1 carries ./DevInfo (named as the item's Source on Windows). */
static const char *s_on_devinfo(s_ctx_t *c, const mdm_sml_cmd_t *cmd)
{
	const char *code = "200";
	for (size_t k = 0; k < cmd->n_items; k++) {
		const mdm_sml_item_t *it = &cmd->items[k];
		const char *t = it->source ? it->source : it->target;
		int known = 0;
		for (size_t d = 0; t && !strncmp(t, "./DevInfo/", 10) && s_devinfo[d]; d++)
			known |= !strcmp(t + 10, s_devinfo[d]);
		if (!known || it->data == NULL || strlen(it->data) > 256) {
			code = "406";
			continue;
		}
		char field[32];
		snprintf(field, sizeof field, "devinfo_%s", t + 10);
		for (char *p = field; *p; p++)
			*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
		json_object_set_new(c->update, field, json_string(it->data));
	}
	return code;
}

/* Answers every command of the device message, in order. */
static void s_process(s_ctx_t *c)
{
	const mdm_sml_msg_t *in = c->in;
	mdm_sml_add_status(c->w, in->msg_id, "0", "SyncHdr", in->has_cred ? "212" : "200",
			   in->target, in->source);
	c->base_size = mdm_sml_writer_size(c->w);
	for (size_t i = 0; i < in->n_cmds; i++) {
		const mdm_sml_cmd_t *cmd = &in->cmds[i];
		const char *code = "200";
		if (!strcmp(cmd->name, "Status")) {
			s_on_status(c, cmd);
			continue; /* a Status is never answered */
		} else if (!strcmp(cmd->name, "Alert")) {
			const char *a = cmd->data ? cmd->data : "";
			const char *type = cmd->n_items && cmd->items[0].type ? cmd->items[0].type
									   : cmd->meta_type;
			if (!strcmp(a, "1226") && type && !strcmp(type, SML_UNENROLL_TYPE)) {
				c->ended = 1;
				json_object_set_new(c->state, "unenroll", json_string("device"));
			} else if (!strcmp(a, "1223")) {
				c->ended = 1; /* session abort */
			} else if (!strcmp(a, "1224") && type && !strcmp(type, SML_PENDING_TYPE)) {
				c->pending_alert = 1; /* keep-alive while a slow CSP works */
			} else if (!strcmp(a, "1224") && type && strstr(type, "LoginStatus") &&
				   cmd->n_items && cmd->items[0].data && strlen(cmd->items[0].data) < 64) {
				json_object_set_new(c->update, "login_status",
						    json_string(cmd->items[0].data));
			}
		} else if (!strcmp(cmd->name, "Replace") || !strcmp(cmd->name, "Add")) {
			code = s_on_devinfo(c, cmd);
		} else if (!strcmp(cmd->name, "Results")) {
			code = s_on_results(c, cmd);
		} else {
			code = "406"; /* optional feature not supported */
		}
		mdm_sml_add_status(c->w, in->msg_id, cmd->cmd_id, cmd->name, code, s_first_target(cmd),
				   s_first_source(cmd));
	}
	s_finish_touched(c);
}

/* First contact: ask for the inventory (./DevDetail) without being told to. */
static void s_first_contact(s_ctx_t *c)
{
	if (json_object_get(c->device, "first_contact_at"))
		return;
	mdm_err_t err = {0};
	json_t *req = json_pack("{s:s}", "type", "inventory");
	json_t *built = mdm_cmd_build(req, c->sml->cfg->provider_id, &err);
	char id[37];
	mdm_uuid4(id);
	char *reqs = json_dumps(req, JSON_COMPACT);
	char *specs = built ? json_dumps(json_object_get(built, "syncml"), JSON_COMPACT) : NULL;
	if (reqs && specs &&
	    mdm_store_cmd_create(c->sml->store, c->device_id, id, "inventory", reqs, specs, c->now,
				 c->sml->cfg->command_ttl, &err) == 0) {
		log_info("device %s: first contact, inventory requested (%s)", c->device_id, id);
		c->queued++;
	}
	else
		log_warn("device %s: cannot queue the first inventory: %s", c->device_id, err.text);
	free(reqs);
	free(specs);
	json_decref(req);
	json_decref(built);
	json_object_set_new(c->update, "first_contact_at", json_integer(c->now));
}

static size_t s_specs_size(json_t *specs)
{
	size_t n = 0, i;
	json_t *s;
	json_array_foreach(specs, i, s) n += mdm_sml_spec_size(s);
	return n;
}

/* SyncML commands a spec renders to (itself and everything nested), in CmdID order. */
static int s_spec_nodes(json_t *spec)
{
	int n = 1;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(spec, "cmds"), i, v) n += s_spec_nodes(v);
	return n;
}

static int s_in_array(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), s)) return 1;
	return 0;
}

/* Puts queued commands into the answer while they fit the device's MaxMsgSize; the rest
 * waits for the next message of the session. A server-initiated Unenroll goes alone. */
static void s_send_queue(s_ctx_t *c, int out_msg)
{
	if (c->queued <= 0)
		return; /* nothing queued when the message came in (one round trip saved) */
	mdm_err_t err = {0};
	json_t *queue = mdm_store_queue(c->sml->store, c->device_id, c->now, &err);
	if (queue == NULL) {
		log_warn("device %s: cannot read the queue: %s", c->device_id, err.text);
		return;
	}
	json_t *in_session = json_object_get(c->state, "session_cmds");
	if (in_session == NULL) {
		in_session = json_array();
		json_object_set_new(c->state, "session_cmds", in_session);
	}
	size_t i, k;
	json_t *cmd, *v;
	json_array_foreach(queue, i, cmd)
	{
		const char *id = json_string_value(json_object_get(cmd, "id"));
		const char *type = json_string_value(json_object_get(cmd, "type"));
		json_t *specs = json_object_get(cmd, "syncml");
		if (id == NULL || !json_is_array(specs) || json_array_size(specs) == 0 ||
		    s_in_array(in_session, id))
			continue; /* never twice in one session */
		int unenroll = type && !strcmp(type, "unenroll");
		if (unenroll && (c->sent_cmds > 0 || json_object_size(s_state_obj(c, "parts")) > 0))
			break; /* alone, once everything before it is answered */
		size_t need = s_specs_size(specs);
		if (mdm_sml_writer_size(c->w) + need + SML_MARGIN > (size_t)c->max_msg) {
			if (c->base_size + need + SML_MARGIN > (size_t)c->max_msg) {
				/* would not fit even alone: tell the administrator */
				mdm_err_t e2 = {0};
				mdm_store_cmd_finish(c->sml->store, id, 0, "413", NULL, c->now, &e2);
				log_warn("device %s: command %s (%zu bytes) exceeds MaxMsgSize %ld",
					 c->device_id, id, need, c->max_msg);
				continue;
			}
			break;
		}
		/* claim it first: a command cancelled or finished meanwhile is not delivered */
		mdm_err_t e3 = {0};
		if (mdm_store_cmd_sent(c->sml->store, id, c->now, &e3) != 0) {
			log_info("device %s: command %s not sent: %s", c->device_id, id, e3.text);
			continue;
		}
		json_t *parts = json_array(), *tops = json_array();
		json_array_foreach(specs, k, v)
		{
			mdm_err_t e2 = {0};
			int cid = mdm_sml_add_spec(c->w, v, &e2);
			if (cid < 0) {
				log_warn("device %s: command %s cannot be rendered: %s", c->device_id, id,
					 e2.text);
				continue;
			}
			/* the top-level CmdID first, then the nested ones (numbered after it) */
			int nodes = s_spec_nodes(v);
			for (int n = 0; n < nodes; n++) {
				char key[48];
				snprintf(key, sizeof key, "%d:%d", out_msg, cid + n);
				json_object_set_new(s_state_obj(c, "sent"), key, json_string(id));
				json_array_append_new(parts, json_string(key));
				if (n == 0)
					json_array_append_new(tops, json_string(key));
			}
		}
		if (json_array_size(parts) == 0) {
			json_decref(parts);
			json_decref(tops);
			mdm_store_cmd_finish(c->sml->store, id, 0, "500", NULL, c->now, &err);
			continue;
		}
		json_object_set_new(s_state_obj(c, "parts"), id, parts);
		json_object_set_new(s_state_obj(c, "tops"), id, tops);
		json_array_append_new(in_session, json_string(id));
		c->sent_cmds++;
		if (unenroll) {
			/* Windows answers the Unenroll Exec with no Status: it leaves. Delivered is
			 * done; the device is unenrolled and its certificate revoked now. */
			mdm_store_cmd_finish(c->sml->store, id, 1, "200", NULL, c->now, &err);
			json_object_del(s_state_obj(c, "parts"), id);
			json_object_del(s_state_obj(c, "tops"), id);
			json_object_set_new(c->state, "unenroll", json_string("admin"));
			c->ended = 1;
			break;
		}
	}
	json_decref(queue);
}

static int s_session_id_ok(const char *sid)
{
	return sid && *sid && strlen(sid) <= 64 && !strpbrk(sid, ": \t\r\n");
}

/* Answers with the header Status only (refusal): nothing of the message is applied. */
static void s_refuse(s_ctx_t *c, mdm_reply_t *rep, int out_msg, const char *code)
{
	char out_id[24];
	snprintf(out_id, sizeof out_id, "%d", out_msg);
	mdm_sml_writer_t *w = mdm_sml_writer_new(c->in->session_id, out_id, c->in->source,
						 c->in->target);
	if (w == NULL) {
		s_plain(rep, 500, "out of memory");
		return;
	}
	mdm_sml_add_status(w, c->in->msg_id, "0", "SyncHdr", code, c->in->target, c->in->source);
	size_t len = 0;
	char *out = mdm_sml_writer_finish(w, 1, c->in->wbxml, &len);
	mdm_reply_set(rep, 200, c->in->wbxml ? SML_CT_WBXML : SML_CT_XML, out ? out : "",
		      out ? len : 0);
	free(out);
	mdm_sml_writer_destroy(&w);
}

/* A device that did not get our answer sends the same message again: same answer. */
static int s_resend_last(s_ctx_t *c, mdm_reply_t *rep)
{
	const char *b64 = json_string_value(json_object_get(c->state, "last_reply"));
	const char *ct = json_string_value(json_object_get(c->state, "last_reply_ct"));
	if (b64 == NULL || ct == NULL)
		return -1;
	size_t len = 0;
	unsigned char *raw = mdm_b64_decode(b64, &len);
	if (raw == NULL)
		return -1;
	mdm_reply_set(rep, 200, ct, (const char *)raw, len);
	free(raw);
	log_info("device %s: MsgID %s repeated, previous answer sent again", c->device_id,
		 c->in->msg_id);
	return 0;
}

/* Device fields from this message, as strings (caller owns). */
static json_t *s_device_fields(s_ctx_t *c)
{
	json_object_set_new(c->update, "last_seen", json_integer(c->now));
	json_t *upd = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(c->update, k, v)
	{
		if (json_is_integer(v)) {
			char num[32];
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			json_object_set_new(upd, k, json_string(num));
		} else if (json_is_string(v)) {
			json_object_set(upd, k, v);
		}
	}
	return upd;
}

int sml_manage(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_ctx_t c = {.sml = ctx, .now = time(NULL)};
	mdm_err_t err = {0};
	char *out = NULL;
	const char *ct = mdm_req_header(req, "Content-Type");
	int wbxml_ct = ct && !strncasecmp(ct, SML_CT_WBXML, strlen(SML_CT_WBXML));
	if (ct == NULL || (!wbxml_ct && strncasecmp(ct, SML_CT_XML, strlen(SML_CT_XML)) != 0)) {
		s_plain(rep, 415, "expected application/vnd.syncml.dm+xml or +wbxml");
		return 0;
	}
	const char *thumb = mdm_req_header(req, "client_cert_sha1");
	const char *listener = mdm_req_header(req, "listener");
	if (thumb == NULL || listener == NULL || strcmp(listener, "mgmt") != 0 ||
	    strlen(thumb) != 40 || strspn(thumb, "0123456789ABCDEF") != 40) {
		mdm_err_set(&err, MDM_E_AUTHORIZATION, "a device certificate is required");
		s_err_reply(rep, &err);
		goto done;
	}
	snprintf(c.thumbprint, sizeof c.thumbprint, "%s", thumb);
	/* certificate, device, live session state and queue length in one round trip */
	mdm_mgmt_load_t ld;
	if (mdm_store_mgmt_load(c.sml->store, c.thumbprint, SML_STATE_KEY, &ld, &err) != 0) {
		s_err_reply(rep, &err);
		goto done;
	}
	int bound = s_bind(&c, &ld, &err);
	c.state = ld.session;
	ld.session = NULL;
	c.queued = ld.queued;
	mdm_mgmt_load_free(&ld);
	if (bound != 0) {
		s_err_reply(rep, &err);
		goto done;
	}
	c.in = mdm_sml_parse(req->body, req->body_len, ct, &err);
	if (c.in == NULL || c.in->target == NULL || !s_session_id_ok(c.in->session_id)) {
		log_info("device %s: malformed SyncML: %s", c.device_id,
			 c.in ? "missing Target or bad SessionID" : err.text);
		s_plain(rep, 400, c.in ? "SyncHdr Target missing or SessionID unusable" : err.text);
		goto done;
	}
	if (c.in->source == NULL || strcmp(c.in->source, c.device_id) != 0) {
		log_warn("device %s: SyncHdr Source %s does not match its certificate", c.device_id,
			 c.in->source ? c.in->source : "(none)");
		s_refuse(&c, rep, 1, "403");
		goto done;
	}
	long client_msg = atol(c.in->msg_id);
	const char *sid = c.state ? json_string_value(json_object_get(c.state, "sid")) : NULL;
	const char *cert = c.state ? json_string_value(json_object_get(c.state, "cert")) : NULL;
	if (c.state && (sid == NULL || strcmp(sid, c.in->session_id) != 0 || cert == NULL ||
			strcmp(cert, c.thumbprint) != 0)) {
		json_decref(c.state); /* a new session replaces the old one */
		c.state = NULL;
	}
	int new_session = c.state == NULL;
	if (new_session) {
		c.state = json_pack("{s:s,s:s,s:i,s:i}", "sid", c.in->session_id, "cert", c.thumbprint,
				    "server_msg", 0, "client_msg", 0);
	}
	if (!new_session && client_msg == s_state_int(&c, "client_msg") && s_resend_last(&c, rep) == 0)
		goto done;
	int out_msg = (int)s_state_int(&c, "server_msg") + 1;
	if (!new_session && client_msg <= s_state_int(&c, "client_msg")) {
		log_warn("device %s: MsgID %ld replayed in session %s", c.device_id, client_msg,
			 c.in->session_id);
		json_object_set_new(c.state, "server_msg", json_integer(out_msg));
		mdm_store_session_put(c.sml->store, c.device_id, SML_STATE_KEY, c.state,
				      c.sml->cfg->session_ttl, &err);
		s_refuse(&c, rep, out_msg, "400");
		goto done;
	}
	/* MaxMsgSize holds for the session (the first one announced) */
	if (json_object_get(c.state, "max_msg") == NULL)
		json_object_set_new(c.state, "max_msg",
				    json_integer(c.in->max_msg_size > 0 ? c.in->max_msg_size
									: c.sml->cfg->default_max_msg));
	c.max_msg = s_state_int(&c, "max_msg");
	char out_id[24];
	snprintf(out_id, sizeof out_id, "%d", out_msg);
	c.w = mdm_sml_writer_new(c.in->session_id, out_id, c.in->source, c.in->target);
	c.update = json_object();
	c.touched = json_object();
	if (c.w == NULL || c.update == NULL || c.touched == NULL) {
		s_plain(rep, 500, "out of memory");
		goto done;
	}
	s_process(&c);
	c.lo_pending |= json_object_get(c.state, "lo") != NULL;
	if (!c.ended && !c.lo_pending && !c.pending_alert && c.in->final) {
		s_first_contact(&c);
		s_send_queue(&c, out_msg);
	}
	int final = 1;
	if (!c.in->final || c.lo_pending) {
		/* the device's package continues: ask for its next message */
		mdm_sml_add_alert(c.w, "1222", NULL);
		final = 0;
	}
	size_t len = 0;
	out = mdm_sml_writer_finish(c.w, final, c.in->wbxml, &len);
	char *b64 = out ? mdm_b64_encode((const unsigned char *)out, len) : NULL;
	if (out == NULL || b64 == NULL) {
		free(b64);
		s_plain(rep, 500, "cannot encode the answer");
		goto done;
	}
	/* state first, then the answer: what we told the device is on record */
	json_object_set_new(c.state, "server_msg", json_integer(out_msg));
	json_object_set_new(c.state, "client_msg", json_integer(client_msg));
	json_object_set_new(c.state, "last_reply", json_string(b64));
	json_object_set_new(c.state, "last_reply_ct",
			    json_string(c.in->wbxml ? SML_CT_WBXML : SML_CT_XML));
	free(b64);
	const char *unenroll = json_string_value(json_object_get(c.state, "unenroll"));
	/* device fields, session state and the session count in one atomic step. The state is
	 * kept until it expires (not deleted when the answer has no commands): a device may
	 * still send Statuses, a keep-alive or a retry within the same session; an unenrolled
	 * device has no session left. */
	json_t *fields = s_device_fields(&c);
	int saved = mdm_store_mgmt_save(c.sml->store, c.device_id, fields, SML_STATE_KEY,
					unenroll ? NULL : c.state, c.sml->cfg->session_ttl,
					new_session, c.now, &err);
	json_decref(fields);
	if (saved != 0) {
		s_err_reply(rep, &err);
		goto done;
	}
	if (unenroll) {
		mdm_err_t e3 = {0};
		if (mdm_store_device_unenroll(c.sml->store, c.device_id, unenroll, c.now, &e3) == 0)
			log_info("device %s unenrolled (%s)", c.device_id, unenroll);
		else
			log_warn("device %s: cannot unenroll: %s", c.device_id, e3.text);
	}
	mdm_reply_set(rep, 200, c.in->wbxml ? SML_CT_WBXML : SML_CT_XML, out, len);
done:
	free(out);
	mdm_sml_writer_destroy(&c.w);
	mdm_sml_msg_destroy(&c.in);
	json_decref(c.state);
	json_decref(c.device);
	json_decref(c.update);
	json_decref(c.touched);
	return 0;
}
