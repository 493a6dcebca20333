/* sml_session.c -- one management message: bind the TLS client certificate to an enrolled
 * device, answer every device command with its Status (SyncHdr first, then in the device's
 * order), correlate the device's Statuses and Results with queued commands by (MsgRef,
 * CmdRef), then send what the queue holds within the device's MaxMsgSize.
 *
 * Session state (server MsgID, what was sent under which (MsgID, CmdID), a large object
 * being reassembled) lives in Redis under the device and SessionID, so any instance can
 * take any message of a session. */
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
#define SML_MARGIN 256 /* room kept for the closing tags and Final */
#define SML_UNENROLL_TYPE "com.microsoft:mdm.unenrollment.userrequest"

typedef struct {
	sml_t *sml;
	char device_id[129];
	json_t *device;   /* the device record */
	mdm_sml_msg_t *in;
	json_t *state;    /* session state (owned) */
	mdm_sml_writer_t *w;
	long max_msg;
	int ended;        /* unenrolled or aborted: no commands, session over */
	int lo_pending;   /* a large object is being received: no new commands */
	int sent_cmds;    /* commands put into this answer */
	json_t *update;   /* device fields to write (DevInfo, inventory, last seen) */
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

/* The gateway verified the chain against our CA; here the certificate must still be the
 * active one of an enrolled device (not superseded by a renewal, not revoked). */
static int s_bind(s_ctx_t *c, const mdm_msg_t *req, mdm_err_t *err)
{
	const char *b64 = mdm_req_header(req, "client_cert");
	const char *listener = mdm_req_header(req, "listener");
	if (b64 == NULL || listener == NULL || strcmp(listener, "mgmt") != 0)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "a device certificate is required");
	size_t len = 0;
	unsigned char *der = mdm_b64_decode(b64, &len);
	X509 *cert = der ? mdm_cert_from_der(der, len) : NULL;
	free(der);
	mdm_cert_info_t info;
	int ok = cert && mdm_cert_get_info(cert, &info) == 0;
	X509_free(cert);
	if (!ok)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "unreadable client certificate");
	if (info.not_after <= c->now || info.not_before > c->now + 300)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is not valid now");
	mdm_err_t e2 = {0};
	json_t *rec = mdm_store_cert_get(c->sml->store, info.thumbprint, &e2);
	if (rec == NULL) {
		if (e2.code != MDM_E_NOT_FOUND)
			return mdm_err_set(err, e2.code, "%s", e2.text);
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is unknown");
	}
	const char *state = json_string_value(json_object_get(rec, "state"));
	const char *dev = json_string_value(json_object_get(rec, "device_id"));
	int active = state && dev && !strcmp(state, "active");
	if (active)
		snprintf(c->device_id, sizeof c->device_id, "%s", dev);
	json_decref(rec);
	if (!active)
		return mdm_err_set(err, MDM_E_AUTHORIZATION, "client certificate is %s",
				   state ? state : "unknown");
	c->device = mdm_store_device_get(c->sml->store, c->device_id, err);
	if (c->device == NULL)
		return -1;
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

/* A device Status for one of our commands: the command is finished once every top-level
 * SyncML command it was made of has its status; 2xx everywhere means done. */
static void s_on_status(s_ctx_t *c, const mdm_sml_cmd_t *st)
{
	if (st->cmd_ref == NULL || !strcmp(st->cmd_ref, "0"))
		return; /* the device's Status for our SyncHdr */
	char key[80];
	snprintf(key, sizeof key, "%s:%s", st->msg_ref ? st->msg_ref : c->in->msg_id, st->cmd_ref);
	json_t *sent = s_state_obj(c, "sent");
	const char *id = json_string_value(json_object_get(sent, key));
	if (id == NULL) {
		log_info("device %s: Status for %s which we never sent (ignored)", c->device_id, key);
		return;
	}
	json_t *answered = s_state_obj(c, "answered");
	if (json_object_get(answered, key))
		return; /* a second Status for the same command: the first one counts */
	json_object_set_new(answered, key, json_true());
	char idc[64];
	snprintf(idc, sizeof idc, "%s", id);
	int code = st->data ? atoi(st->data) : 0;
	json_t *codes = s_state_obj(c, "codes");
	const char *prev = json_string_value(json_object_get(codes, idc));
	/* keep the first failure; otherwise the latest code */
	if (prev == NULL || (atoi(prev) >= 200 && atoi(prev) < 300))
		json_object_set_new(codes, idc, json_string(st->data ? st->data : "0"));
	json_t *await = s_state_obj(c, "awaiting");
	json_int_t left = json_integer_value(json_object_get(await, idc)) - 1;
	if (left > 0) {
		json_object_set_new(await, idc, json_integer(left));
		return;
	}
	json_object_del(await, idc);
	const char *final = json_string_value(json_object_get(codes, idc));
	int fc = final ? atoi(final) : code;
	mdm_err_t err = {0};
	if (mdm_store_cmd_finish(c->sml->store, idc, fc >= 200 && fc < 300, final, NULL, c->now,
				 &err) != 0)
		log_warn("device %s: cannot record status of %s: %s", c->device_id, idc, err.text);
	json_object_del(codes, idc);
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
	if (t == NULL || strncmp(t, "./DevDetail/", 12) != 0 || data == NULL || strlen(data) > 1024)
		return;
	char field[128] = "inv_";
	size_t n = 4;
	for (const char *p = t + 12; *p && n + 1 < sizeof field; p++)
		field[n++] = (*p == '/') ? '_' : (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	field[n] = '\0';
	json_object_set_new(c->update, field, json_string(data));
	json_object_set_new(c->update, "inventory_at", json_integer(c->now));
}

/* Results (answers to our Get): stored on the command; a chunked item (MoreData) is
 * reassembled in the session first and checked against the size announced with it.
 * Returns the status code to answer the Results with. */
static const char *s_on_results(s_ctx_t *c, const mdm_sml_cmd_t *res)
{
	char key[80];
	snprintf(key, sizeof key, "%s:%s", res->msg_ref ? res->msg_ref : "?",
		 res->cmd_ref ? res->cmd_ref : "?");
	const char *id = json_string_value(json_object_get(s_state_obj(c, "sent"), key));
	json_t *lo = json_object_get(c->state, "lo");
	const char *lo_key = lo ? json_string_value(json_object_get(lo, "key")) : NULL;
	if (id == NULL && lo_key && !strcmp(lo_key, key))
		id = json_string_value(json_object_get(lo, "command"));
	if (id == NULL) {
		log_info("device %s: Results for %s which we never asked (ignored)", c->device_id, key);
		return "200";
	}
	char idc[64]; /* a copy: the large-object state that may hold it is deleted below */
	snprintf(idc, sizeof idc, "%s", id);
	id = idc;
	json_t *out = json_array();
	const char *code = "200";
	for (size_t i = 0; i < res->n_items; i++) {
		const mdm_sml_item_t *it = &res->items[i];
		lo = json_object_get(c->state, "lo");
		if (it->more_data || lo) {
			/* large object: append this chunk */
			if (lo == NULL) {
				lo = json_pack("{s:s,s:s,s:I,s:s}", "key", key, "command", id, "size",
					       (json_int_t)it->size, "data", "");
				json_object_set_new(c->state, "lo", lo);
			}
			const char *sofar = json_string_value(json_object_get(lo, "data"));
			size_t total = strlen(sofar) + (it->data ? strlen(it->data) : 0);
			if (total > 16 * 1024 * 1024) {
				json_object_del(c->state, "lo");
				code = "413";
				continue;
			}
			char *joined = malloc(total + 1);
			if (joined == NULL)
				continue;
			snprintf(joined, total + 1, "%s%s", sofar, it->data ? it->data : "");
			json_object_set_new(lo, "data", json_string(joined));
			if (it->more_data) {
				free(joined);
				c->lo_pending = 1;
				code = "213";
				continue;
			}
			json_int_t want = json_integer_value(json_object_get(lo, "size"));
			if (want > 0 && (size_t)want != strlen(joined)) {
				log_warn("device %s: large object %zu bytes, announced %lld", c->device_id,
					 strlen(joined), (long long)want);
				code = "424";
			} else {
				json_array_append_new(out, s_item_json(it, joined));
				s_note_inventory(c, it, joined);
			}
			free(joined);
			json_object_del(c->state, "lo");
			continue;
		}
		json_array_append_new(out, s_item_json(it, it->data));
		s_note_inventory(c, it, it->data);
	}
	if (json_array_size(out)) {
		mdm_err_t err = {0};
		if (mdm_store_cmd_add_results(c->sml->store, idc, out, &err) != 0)
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

/* Answers every command of the device message, in order. */
static void s_process(s_ctx_t *c)
{
	const mdm_sml_msg_t *in = c->in;
	mdm_sml_add_status(c->w, in->msg_id, "0", "SyncHdr", in->has_cred ? "212" : "200",
			   in->target, in->source);
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
				json_object_set_new(c->state, "unenroll", json_true());
			} else if (!strcmp(a, "1223")) {
				c->ended = 1; /* session abort */
			} else if (!strcmp(a, "1224") && type && strstr(type, "LoginStatus") &&
				   cmd->n_items && cmd->items[0].data) {
				json_object_set_new(c->update, "login_status",
						    json_string(cmd->items[0].data));
			}
		} else if (!strcmp(cmd->name, "Replace") || !strcmp(cmd->name, "Add")) {
			/* package 1 carries ./DevInfo */
			for (size_t k = 0; k < cmd->n_items; k++) {
				const mdm_sml_item_t *it = &cmd->items[k];
				/* Windows names the node as the item's Source, not its Target */
				const char *t = it->source ? it->source : it->target;
				if (t && !strncmp(t, "./DevInfo/", 10) && it->data &&
				    strlen(it->data) < 256 && !strchr(t + 10, '/') && strlen(t) < 40) {
					char field[64];
					snprintf(field, sizeof field, "devinfo_%s", t + 10);
					for (char *p = field; *p; p++)
						*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
					json_object_set_new(c->update, field, json_string(it->data));
				} else {
					code = "406";
				}
			}
		} else if (!strcmp(cmd->name, "Results")) {
			code = s_on_results(c, cmd);
		} else {
			code = "406"; /* optional feature not supported */
		}
		mdm_sml_add_status(c->w, in->msg_id, cmd->cmd_id, cmd->name, code, s_first_target(cmd),
				   s_first_source(cmd));
	}
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
				 c->sml->cfg->command_ttl, &err) == 0)
		log_info("device %s: first contact, inventory requested (%s)", c->device_id, id);
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

/* Puts queued commands into the answer while they fit the device's MaxMsgSize; the rest
 * waits for the next message of the session. */
static void s_send_queue(s_ctx_t *c, int out_msg)
{
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
		if (id == NULL || !json_is_array(specs) || json_array_size(specs) == 0)
			continue;
		int seen = 0;
		json_array_foreach(in_session, k, v) seen |= !strcmp(json_string_value(v), id);
		if (seen)
			continue; /* never twice in one session */
		size_t need = s_specs_size(specs);
		if (mdm_sml_writer_size(c->w) + need + SML_MARGIN > (size_t)c->max_msg) {
			if (c->sent_cmds == 0 && need + 1024 > (size_t)c->max_msg) {
				/* would not fit even alone: tell the administrator */
				mdm_err_t e2 = {0};
				mdm_store_cmd_finish(c->sml->store, id, 0, "413", NULL, c->now, &e2);
				log_warn("device %s: command %s (%zu bytes) exceeds MaxMsgSize %ld",
					 c->device_id, id, need, c->max_msg);
				continue;
			}
			break;
		}
		int parts = 0;
		json_array_foreach(specs, k, v)
		{
			mdm_err_t e2 = {0};
			int cid = mdm_sml_add_spec(c->w, v, &e2);
			if (cid < 0) {
				log_warn("device %s: command %s cannot be rendered: %s", c->device_id, id,
					 e2.text);
				continue;
			}
			char key[48];
			snprintf(key, sizeof key, "%d:%d", out_msg, cid);
			json_object_set_new(s_state_obj(c, "sent"), key, json_string(id));
			parts++;
		}
		if (parts == 0) {
			mdm_store_cmd_finish(c->sml->store, id, 0, "500", NULL, c->now, &err);
			continue;
		}
		json_object_set_new(s_state_obj(c, "awaiting"), id, json_integer(parts));
		json_array_append_new(in_session, json_string(id));
		mdm_store_cmd_sent(c->sml->store, id, c->now, &err);
		c->sent_cmds++;
		if (type && !strcmp(type, "unenroll")) {
			/* Windows answers the Unenroll Exec with no Status: it leaves. Delivered is
			 * done; the device is unenrolled and its certificate revoked now. */
			mdm_store_cmd_finish(c->sml->store, id, 1, "200", NULL, c->now, &err);
			json_object_set_new(c->state, "unenroll", json_true());
			c->ended = 1;
			break;
		}
	}
	json_decref(queue);
}

static void s_session_key_check(const char *sid, int *ok)
{
	*ok = sid && *sid && strlen(sid) <= 64 && !strpbrk(sid, ": \t\r\n");
}

int sml_manage(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_ctx_t c = {.sml = ctx, .now = time(NULL)};
	mdm_err_t err = {0};
	const char *ct = mdm_req_header(req, "Content-Type");
	int wbxml_ct = ct && !strncasecmp(ct, SML_CT_WBXML, strlen(SML_CT_WBXML));
	if (ct == NULL || (!wbxml_ct && strncasecmp(ct, SML_CT_XML, strlen(SML_CT_XML)) != 0)) {
		s_plain(rep, 415, "expected application/vnd.syncml.dm+xml or +wbxml");
		return 0;
	}
	if (s_bind(&c, req, &err) != 0) {
		s_err_reply(rep, &err);
		goto done;
	}
	c.in = mdm_sml_parse(req->body, req->body_len, ct, &err);
	if (c.in == NULL) {
		log_info("device %s: malformed SyncML: %s", c.device_id, err.text);
		s_plain(rep, 400, err.text);
		goto done;
	}
	int sid_ok;
	s_session_key_check(c.in->session_id, &sid_ok);
	if (!sid_ok) {
		s_plain(rep, 400, "SessionID is not usable");
		goto done;
	}
	long client_msg = atol(c.in->msg_id);
	c.max_msg = c.in->max_msg_size > 0 ? c.in->max_msg_size : c.sml->cfg->default_max_msg;
	mdm_err_t e2 = {0};
	c.state = mdm_store_session_get(c.sml->store, c.device_id, c.in->session_id, &e2);
	if (c.state == NULL && e2.code != MDM_E_NOT_FOUND) {
		s_err_reply(rep, &e2);
		goto done;
	}
	if (c.state == NULL)
		c.state = json_pack("{s:i,s:i}", "server_msg", 0, "client_msg", 0);

	int out_msg = (int)s_state_int(&c, "server_msg") + 1;
	char out_id[24];
	snprintf(out_id, sizeof out_id, "%d", out_msg);
	c.w = mdm_sml_writer_new(c.in->session_id, out_id, c.in->source, c.in->target);
	if (c.w == NULL) {
		s_plain(rep, 500, "out of memory");
		goto done;
	}
	int refuse = 0;
	if (c.in->source == NULL || strcmp(c.in->source, c.device_id) != 0) {
		log_warn("device %s: SyncHdr Source %s does not match its certificate", c.device_id,
			 c.in->source ? c.in->source : "(none)");
		refuse = 403;
	} else if (client_msg <= s_state_int(&c, "client_msg")) {
		log_warn("device %s: MsgID %ld replayed in session %s", c.device_id, client_msg,
			 c.in->session_id);
		refuse = 400;
	}
	if (refuse) {
		/* answer the header only: nothing of the message is applied or stored */
		char code[8];
		snprintf(code, sizeof code, "%d", refuse);
		mdm_sml_add_status(c.w, c.in->msg_id, "0", "SyncHdr", code, c.in->target, c.in->source);
		size_t len = 0;
		char *out = mdm_sml_writer_finish(c.w, 1, c.in->wbxml, &len);
		mdm_reply_set(rep, 200, c.in->wbxml ? SML_CT_WBXML : SML_CT_XML, out ? out : "",
			      out ? len : 0);
		free(out);
		goto done;
	}
	c.update = json_object();
	s_process(&c);
	if (!c.ended && !c.lo_pending && c.in->final) {
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
	char *out = mdm_sml_writer_finish(c.w, final, c.in->wbxml, &len);
	if (out == NULL) {
		s_plain(rep, 500, "cannot encode the answer");
		goto done;
	}
	/* state first, then the answer: what we told the device is on record */
	json_object_set_new(c.state, "server_msg", json_integer(out_msg));
	json_object_set_new(c.state, "client_msg", json_integer(client_msg));
	json_object_set_new(c.update, "last_seen", json_integer(c.now));
	json_t *upd = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(c.update, k, v)
	{
		if (json_is_integer(v)) {
			char num[32];
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			json_object_set_new(upd, k, json_string(num));
		} else if (json_is_string(v)) {
			json_object_set(upd, k, v);
		}
	}
	mdm_store_device_update(c.sml->store, c.device_id, upd, &err);
	json_decref(upd);
	int session_over = c.ended || (final && c.sent_cmds == 0);
	if (json_is_true(json_object_get(c.state, "unenroll"))) {
		mdm_err_t e3 = {0};
		if (mdm_store_device_unenroll(c.sml->store, c.device_id,
					      c.sent_cmds ? "server" : "device", c.now, &e3) == 0)
			log_info("device %s unenrolled (%s)", c.device_id,
				 c.sent_cmds ? "server request delivered" : "device request");
		else
			log_warn("device %s: cannot unenroll: %s", c.device_id, e3.text);
	}
	if (session_over)
		mdm_store_session_delete(c.sml->store, c.device_id, c.in->session_id, &err);
	else if (mdm_store_session_put(c.sml->store, c.device_id, c.in->session_id, c.state,
				       c.sml->cfg->session_ttl, &err) != 0) {
		free(out);
		s_err_reply(rep, &err);
		goto done;
	}
	mdm_reply_set(rep, 200, c.in->wbxml ? SML_CT_WBXML : SML_CT_XML, out, len);
	free(out);
done:
	mdm_sml_writer_destroy(&c.w);
	mdm_sml_msg_destroy(&c.in);
	json_decref(c.state);
	json_decref(c.device);
	json_decref(c.update);
	return 0;
}
