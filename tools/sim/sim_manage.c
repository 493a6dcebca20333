/* sim_manage.c -- `mdm-sim manage`: one OMA-DM 1.2 management session as a Windows 10/11
 * device runs it (MS-MDM over SyncML 1.2, checklist section 5), with every server message
 * checked, commands applied to the DM tree (sim_tree.c), large Results sent in chunks,
 * user- and server-initiated unenrollment. Independent of libs/syncml. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mdm_log.h"

#define SIM_DM_UA "MSFT OMA DM Client/1.2.0.1"
#define SIM_DEFAULT_MAX 65536L
#define SIM_MIN_CHUNK 128
#define SIM_RESERVE 160 /* room kept for Alert 1222 / Final / closing tags */

/* ---- outgoing elements ------------------------------------------------------------- */

typedef struct {
	char *locuri;   /* Source LocURI, or NULL */
	char *format;   /* Meta Format, or NULL */
	char *type;     /* Meta Type, or NULL */
	int type_first; /* Meta Type before Format, as Windows writes its Alert 1226 */
	char *data;     /* owned */
	size_t len;
} s_item_t;

enum { K_DONE = -1, K_STATUS, K_RESULTS, K_ALERT, K_REPLACE };

typedef struct {
	int kind;
	int msgref;         /* Status/Results: the server's MsgID */
	char *cmdref;       /* Status/Results: the server's CmdID */
	char *cmd;          /* Status: the server command's name */
	char **refs;        /* Status: TargetRefs */
	size_t nrefs;
	int code;           /* Status: status code; Alert: alert code */
	s_item_t *items;
	size_t nitems;
	size_t next;        /* Results: first item not fully sent */
	size_t off;         /* Results: bytes of items[next] already sent in chunks */
} s_out_t;

/* One command of ours in the last message, waiting for its Status. */
typedef struct {
	int cmdid;
	const char *cmd;
	int expect; /* 200 (or 202), or 213 for a chunk with MoreData */
} s_sent_t;

typedef struct {
	const sim_manage_opts_t *o;
	sim_http_t *http;
	sim_tree_t *tree;
	FILE *rx;                 /* DIR/received.jsonl */
	const char *device_id;
	const char *mgmt_url;     /* SyncHdr Target */
	char *post_url;           /* mgmt_url?mode=Maintenance&Platform=WoA, or the server's RespURI */
	char sid[8];
	char cv[64];              /* MS-CV header line */
	char cv_base[24];
	const char *headers[4];
	int msg_id;               /* our last MsgID */
	int srv_msg;              /* the server's last MsgID */
	long srv_max;             /* the server's MaxMsgSize */
	int pending_more;         /* our last message had no Final: our package continues */
	int srv_open;             /* the server's package continues (its last message had no Final) */
	int n_msgs, n_applied;
	s_out_t *q;
	size_t nq, qcap;
	s_sent_t *sent;
	size_t nsent, sentcap;
	int unenroll;             /* Exec .../Unenroll applied: end the session silently */
	int atomic_unenroll;      /* ... inside the running Atomic */
	int aborted;              /* Alert 1223 from the server */
	long refused;             /* the code behind SIM_MREFUSED (HTTP or SyncHdr status) */
} s_sess_t;

static void s_item_free(s_item_t *it)
{
	free(it->locuri);
	free(it->format);
	free(it->type);
	free(it->data);
}

static void s_out_free(s_out_t *e)
{
	free(e->cmdref);
	free(e->cmd);
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	for (size_t i = 0; i < e->nitems; i++)
		s_item_free(&e->items[i]);
	free(e->items);
	memset(e, 0, sizeof *e);
}

static s_out_t *s_push(s_sess_t *s, int kind)
{
	if (s->nq == s->qcap) {
		size_t cap = s->qcap ? 2 * s->qcap : 16;
		s_out_t *q = realloc(s->q, cap * sizeof *q);
		if (q == NULL)
			return NULL;
		s->q = q;
		s->qcap = cap;
	}
	s_out_t *e = &s->q[s->nq++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	return e;
}

static void s_queue_clear(s_sess_t *s)
{
	for (size_t i = 0; i < s->nq; i++)
		s_out_free(&s->q[i]);
	s->nq = 0;
}

/* Drops the elements that went out, keeping the order of the others. */
static void s_queue_compact(s_sess_t *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].kind != K_DONE)
			s->q[n++] = s->q[i];
	s->nq = n;
}

static int s_item_add(s_out_t *e, const char *locuri, const char *format, const char *type,
		      const char *data, size_t len)
{
	s_item_t *items = realloc(e->items, (e->nitems + 1) * sizeof *items);
	if (items == NULL)
		return -1;
	e->items = items;
	s_item_t *it = &items[e->nitems];
	memset(it, 0, sizeof *it);
	it->locuri = locuri ? strdup(locuri) : NULL;
	it->format = format ? strdup(format) : NULL;
	it->type = type ? strdup(type) : NULL;
	it->data = malloc(len + 1);
	if ((locuri && !it->locuri) || (format && !it->format) || (type && !it->type) || !it->data) {
		s_item_free(it);
		return -1;
	}
	memcpy(it->data, data, len);
	it->data[len] = '\0';
	it->len = len;
	e->nitems++;
	return 0;
}

static int s_sent_add(s_sess_t *s, int cmdid, const char *cmd, int expect)
{
	if (s->nsent == s->sentcap) {
		size_t cap = s->sentcap ? 2 * s->sentcap : 16;
		s_sent_t *v = realloc(s->sent, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->sent = v;
		s->sentcap = cap;
	}
	s->sent[s->nsent++] = (s_sent_t){cmdid, cmd, expect};
	return 0;
}

/* ---- rendering --------------------------------------------------------------------- */

/* XML text escaping with a known cost per byte (chunk sizes are computed from it). */
static size_t s_esc_cost(unsigned char c)
{
	switch (c) {
	case '&': return 5;  /* &amp; */
	case '<': return 4;  /* &lt; */
	case '>': return 4;  /* &gt; */
	case '\r': return 5; /* &#13; (a bare CR would be normalised away) */
	default: return 1;
	}
}

static void s_esc(mdm_buf_t *b, const char *data, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep;
		switch (data[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '\r': rep = "&#13;"; break;
		default: continue;
		}
		mdm_buf_append(b, data + start, i - start);
		mdm_buf_puts(b, rep);
		start = i + 1;
	}
	mdm_buf_append(b, data + start, len - start);
}

/* Bytes of data (from the start) whose escaped form fits in avail, not splitting UTF-8. */
static size_t s_chunk_len(const char *data, size_t len, size_t avail)
{
	size_t n = 0, cost = 0;
	while (n < len && cost + s_esc_cost((unsigned char)data[n]) <= avail)
		cost += s_esc_cost((unsigned char)data[n++]);
	while (n > 0 && n < len && ((unsigned char)data[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static void s_meta_tag(mdm_buf_t *b, const char *name, const char *value)
{
	mdm_buf_printf(b, "<%s xmlns=\"" SIM_NS_METINF "\">", name);
	mdm_buf_put_escaped(b, value);
	mdm_buf_printf(b, "</%s>", name);
}

/* <Item>[Source][Meta]<Data>data[off, off+n)</Data>[<MoreData/>]</Item>. size >= 0 adds
 * Meta Size (first chunk of a large object only; OMA-DM 1.2 section 2.2: Meta and Item
 * information repeated on later chunks, Size only on the first); meta 0 leaves Meta out. */
static void s_render_item(mdm_buf_t *b, const s_item_t *it, size_t off, size_t n, int meta,
			  long long size, int more)
{
	mdm_buf_puts(b, "<Item>");
	if (it->locuri) {
		mdm_buf_puts(b, "<Source>");
		sim_sml_tag(b, "LocURI", it->locuri);
		mdm_buf_puts(b, "</Source>");
	}
	if (meta && (it->format || it->type || size >= 0)) {
		mdm_buf_puts(b, "<Meta>");
		if (it->type && it->type_first)
			s_meta_tag(b, "Type", it->type);
		if (it->format)
			s_meta_tag(b, "Format", it->format);
		if (it->type && !it->type_first)
			s_meta_tag(b, "Type", it->type);
		if (size >= 0)
			mdm_buf_printf(b, "<Size xmlns=\"" SIM_NS_METINF "\">%lld</Size>", size);
		mdm_buf_puts(b, "</Meta>");
	}
	mdm_buf_puts(b, "<Data>");
	s_esc(b, it->data + off, n);
	mdm_buf_puts(b, "</Data>");
	if (more)
		mdm_buf_puts(b, "<MoreData/>");
	mdm_buf_puts(b, "</Item>");
}

static size_t s_item_size(const s_item_t *it, size_t off, size_t n, int meta, long long size, int more)
{
	mdm_buf_t t = MDM_BUF_INIT;
	s_render_item(&t, it, off, n, meta, size, more);
	size_t len = t.len;
	mdm_buf_free(&t);
	return len;
}

static void s_render_status(mdm_buf_t *b, int cmdid, const s_out_t *e)
{
	mdm_buf_printf(b, "<Status><CmdID>%d</CmdID><MsgRef>%d</MsgRef>", cmdid, e->msgref);
	sim_sml_tag(b, "CmdRef", e->cmdref);
	sim_sml_tag(b, "Cmd", e->cmd);
	for (size_t i = 0; i < e->nrefs; i++)
		sim_sml_tag(b, "TargetRef", e->refs[i]);
	mdm_buf_printf(b, "<Data>%d</Data></Status>", e->code);
}

static void s_render_cmd(mdm_buf_t *b, int cmdid, const s_out_t *e)
{
	if (e->kind == K_ALERT) {
		mdm_buf_printf(b, "<Alert><CmdID>%d</CmdID><Data>%d</Data>", cmdid, e->code);
		for (size_t i = 0; i < e->nitems; i++)
			s_render_item(b, &e->items[i], 0, e->items[i].len, 1, -1, 0);
		mdm_buf_puts(b, "</Alert>");
	} else {
		mdm_buf_printf(b, "<Replace><CmdID>%d</CmdID>", cmdid);
		for (size_t i = 0; i < e->nitems; i++)
			s_render_item(b, &e->items[i], 0, e->items[i].len, 1, -1, 0);
		mdm_buf_puts(b, "</Replace>");
	}
}

typedef struct {
	mdm_buf_t *b;
	size_t budget; /* bytes the body may reach before the reserve */
	size_t base;   /* length after the header and the SyncHdr Status */
	int cmdid;
} s_msg_t;

static int s_fits(const s_msg_t *m, size_t more)
{
	return m->b->len + more <= m->budget;
}

/* Renders (part of) a Results element. Returns 1 when all its items went out, 0 when the
 * message is full (the rest goes into the next message), -1 on error. */
static int s_render_results(s_sess_t *s, s_out_t *e, s_msg_t *m)
{
	static const char close[] = "</Results>";
	while (e->next < e->nitems) {
		char open[160];
		int id = m->cmdid;
		snprintf(open, sizeof open, "<Results><CmdID>%d</CmdID><MsgRef>%d</MsgRef><CmdRef>", id,
			 e->msgref);
		mdm_buf_t hdr = MDM_BUF_INIT;
		mdm_buf_puts(&hdr, open);
		mdm_buf_put_escaped(&hdr, e->cmdref);
		mdm_buf_puts(&hdr, "</CmdRef>");
		size_t start = m->b->len;
		int n_in = 0, expect = 200, full = 0;
		mdm_buf_append(m->b, hdr.data, hdr.len);
		size_t hlen = hdr.len;
		mdm_buf_free(&hdr);
		while (e->next < e->nitems) {
			s_item_t *it = &e->items[e->next];
			size_t rest = it->len - e->off;
			size_t whole = s_item_size(it, e->off, rest, 1, -1, 0);
			if (s_fits(m, whole + sizeof close)) {
				s_render_item(m->b, it, e->off, rest, 1, -1, 0);
				int was_chunked = e->off > 0;
				e->next++;
				e->off = 0;
				n_in++;
				if (was_chunked)
					break; /* the last chunk closes its Results */
				continue;
			}
			if (n_in > 0) {
				full = 1;
				break;
			}
			/* Alone in its Results and too big for the room left. Defer it to the next
			 * message if it fits there whole, else send a chunk now. */
			int empty = m->b->len - hlen == m->base;
			if (!empty && e->off == 0 &&
			    m->base + hlen + whole + sizeof close <= m->budget) {
				m->b->len = start;
				m->b->data[start] = '\0';
				return 0;
			}
			long long size = e->off == 0 ? (long long)it->len : -1;
			size_t over = s_item_size(it, 0, 0, 1, size, 1) + sizeof close;
			size_t room = m->budget > m->b->len + over ? m->budget - (m->b->len + over) : 0;
			size_t n = room >= SIM_MIN_CHUNK ? s_chunk_len(it->data + e->off, rest, room) : 0;
			if (n == 0) {
				m->b->len = start;
				m->b->data[start] = '\0';
				if (!empty)
					return 0;
				fprintf(stderr, "mdm-sim: MaxMsgSize %ld is too small to carry a chunk of %s\n",
					s->srv_max < s->o->max_msg_size ? s->srv_max : s->o->max_msg_size,
					it->locuri ? it->locuri : "a result");
				return -1;
			}
			s_render_item(m->b, it, e->off, n, 1, size, 1);
			sim_note("large object %s: %zu of %zu bytes from offset %zu, MoreData", it->locuri,
				 n, it->len, e->off);
			e->off += n;
			expect = 213;
			full = 1;
			break;
		}
		mdm_buf_puts(m->b, close);
		m->cmdid++;
		if (s_sent_add(s, id, "Results", expect) != 0)
			return -1;
		if (full)
			return 0;
	}
	return 1;
}

/* Renders one queued element: 1 all of it went out, 0 the message is full, -1 error. */
static int s_render_one(s_sess_t *s, s_out_t *e, s_msg_t *m)
{
	if (e->kind == K_RESULTS)
		return s_render_results(s, e, m);
	mdm_buf_t t = MDM_BUF_INIT;
	int rc = 1;
	if (e->kind == K_STATUS)
		s_render_status(&t, m->cmdid, e);
	else
		s_render_cmd(&t, m->cmdid, e);
	if (t.failed) {
		rc = -1;
	} else if (!s_fits(m, t.len) && m->b->len > m->base) {
		rc = 0; /* next message (a lone element that does not fit goes out anyway) */
	} else {
		mdm_buf_append(m->b, t.data, t.len);
		if (e->kind != K_STATUS &&
		    s_sent_add(s, m->cmdid, e->kind == K_ALERT ? "Alert" : "Replace", 200) != 0)
			rc = -1;
		m->cmdid++;
	}
	mdm_buf_free(&t);
	return rc;
}

/* Builds our next message from the queue. */
static int s_build(s_sess_t *s, mdm_buf_t *b)
{
	const sim_manage_opts_t *o = s->o;
	long limit = s->srv_max < o->max_msg_size ? s->srv_max : o->max_msg_size;
	s_msg_t m = {b, 0, 0, 2};

	s->msg_id++;
	s->nsent = 0;
	mdm_buf_puts(b, "<SyncML xmlns=\"" SIM_NS_SYNCML "\"><SyncHdr><VerDTD>1.2</VerDTD>"
			"<VerProto>DM/1.2</VerProto>");
	sim_sml_tag(b, "SessionID", s->sid);
	mdm_buf_printf(b, "<MsgID>%d</MsgID><Target>", s->msg_id);
	sim_sml_tag(b, "LocURI", s->mgmt_url);
	mdm_buf_puts(b, "</Target><Source>");
	sim_sml_tag(b, "LocURI", s->device_id);
	mdm_buf_printf(b, "</Source><Meta><MaxMsgSize xmlns=\"" SIM_NS_METINF "\">%ld</MaxMsgSize>"
			  "</Meta></SyncHdr><SyncBody>", o->max_msg_size);
	if (s->srv_msg > 0) /* CmdID 1 is the SyncHdr Status; package 1 starts at 2 like Windows */
		mdm_buf_printf(b, "<Status><CmdID>1</CmdID><MsgRef>%d</MsgRef><CmdRef>0</CmdRef>"
				  "<Cmd>SyncHdr</Cmd><Data>200</Data></Status>", s->srv_msg);
	m.base = b->len;
	m.budget = limit > SIM_RESERVE ? (size_t)(limit - SIM_RESERVE) : 0;

	/* Statuses first (like Windows), then Results and commands, each in queue order. */
	int full = 0;
	for (int pass = 0; pass < 2 && !full; pass++) {
		for (size_t k = 0; k < s->nq && !full; k++) {
			s_out_t *e = &s->q[k];
			if (e->kind == K_DONE || (e->kind == K_STATUS) != (pass == 0))
				continue;
			int done = s_render_one(s, e, &m);
			if (done < 0)
				return -1;
			if (done) {
				s_out_free(e);
				e->kind = K_DONE;
			} else {
				full = 1;
			}
		}
	}
	s_queue_compact(s);
	int empty = s->nq == 0;
	if (empty && s->srv_open) { /* the server's package continues: ask for its next message */
		mdm_buf_printf(b, "<Alert><CmdID>%d</CmdID><Data>1222</Data></Alert>", m.cmdid);
		if (s_sent_add(s, m.cmdid, "Alert", 200) != 0)
			return -1;
		m.cmdid++;
	}
	s->pending_more = !empty;
	if (empty && !s->srv_open)
		mdm_buf_puts(b, "<Final/>");
	mdm_buf_puts(b, "</SyncBody></SyncML>");
	if (b->failed)
		return -1;
	if ((long)b->len > limit) {
		fprintf(stderr, "mdm-sim: our message %d is %zu bytes, over the MaxMsgSize %ld\n",
			s->msg_id, b->len, limit);
		return -1;
	}
	return 0;
}

/* ---- checks on the server's message ------------------------------------------------ */

static const char *const m_synchdr[] = {"VerDTD", "VerProto", "SessionID", "MsgID", "Target",
					 "Source", "RespURI?", "NoResp?", "Cred?", "Meta?", NULL};
static const char *const m_status[] = {"CmdID", "MsgRef?", "CmdRef", "Cmd", "TargetRef*",
					"SourceRef*", "Cred?", "Chal?", "Data", "Item*", NULL};
static const char *const m_addrep[] = {"CmdID", "NoResp?", "Cred?", "Meta?", "Item+", NULL};
static const char *const m_delete[] = {"CmdID", "NoResp?", "Archive?", "SftDel?", "Cred?", "Meta?",
					"Item+", NULL};
static const char *const m_get[] = {"CmdID", "NoResp?", "Lang?", "Cred?", "Meta?", "Item+", NULL};
static const char *const m_exec[] = {"CmdID", "NoResp?", "Cred?", "Meta?", "Correlator?", "Item", NULL};
static const char *const m_alert[] = {"CmdID", "NoResp?", "Cred?", "Data?", "Correlator?", "Item*", NULL};
static const char *const m_container[] = {"CmdID", "NoResp?", "Meta?", "*+", NULL};
static const char *const m_item[] = {"Target?", "Source?", "SourceParent?", "TargetParent?", "Meta?",
				      "Data?", "MoreData?", NULL};

typedef struct {
	char **ids;
	size_t n, cap;
} s_ids_t;

static void s_ids_free(s_ids_t *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		free(ids->ids[i]);
	free(ids->ids);
	memset(ids, 0, sizeof *ids);
}

/* CmdID present, not 0, unique in the message. */
static int s_check_cmdid(s_sess_t *s, xmlNodePtr el, s_ids_t *ids)
{
	char *id = sim_sml_text(el, "CmdID");
	if (id == NULL || *id == '\0') {
		free(id);
		return sim_fail("server message %d: <%s> without CmdID", s->srv_msg, (const char *)el->name);
	}
	if (strcmp(id, "0") == 0) {
		free(id);
		return sim_fail("server message %d: <%s> with CmdID 0", s->srv_msg, (const char *)el->name);
	}
	for (size_t i = 0; i < ids->n; i++) {
		if (strcmp(ids->ids[i], id) == 0) {
			sim_fail("server message %d: CmdID %s used twice (again on <%s>)", s->srv_msg, id,
				 (const char *)el->name);
			free(id);
			return SIM_ECHECK;
		}
	}
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? 2 * ids->cap : 32;
		char **v = realloc(ids->ids, cap * sizeof *v);
		if (v == NULL) {
			free(id);
			return SIM_ECHECK;
		}
		ids->ids = v;
		ids->cap = cap;
	}
	ids->ids[ids->n++] = id;
	return SIM_OK;
}

static int s_check_model(s_sess_t *s, xmlNodePtr el, const char *const *model)
{
	const char *why = sim_sml_order(el, model);
	if (why)
		return sim_fail("server message %d: %s", s->srv_msg, why);
	return SIM_OK;
}

/* Meta children are MetInf elements (xmlns="syncml:metinf"). */
static int s_check_meta(s_sess_t *s, xmlNodePtr meta)
{
	if (meta == NULL)
		return SIM_OK;
	for (xmlNodePtr c = sim_sml_first(meta); c; c = sim_sml_nextel(c)) {
		const char *ns = c->ns && c->ns->href ? (const char *)c->ns->href : "";
		if (strcmp(ns, SIM_NS_METINF) != 0)
			return sim_fail("server message %d: <Meta><%s> in namespace \"%s\", not \"" SIM_NS_METINF "\"",
					s->srv_msg, (const char *)c->name, ns);
	}
	return SIM_OK;
}

static int s_check_locuri(s_sess_t *s, const char *cmd, const char *uri)
{
	if (uri == NULL || *uri == '\0')
		return sim_fail("server message %d: %s item without Target/LocURI", s->srv_msg, cmd);
	if (!(strcmp(uri, ".") == 0 || strncmp(uri, "./", 2) == 0))
		return sim_fail("server message %d: %s LocURI \"%s\" does not start with \"./\"", s->srv_msg,
				cmd, uri);
	for (const char *p = uri; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			return sim_fail("server message %d: %s LocURI \"%s\" holds whitespace (escape it as %%20)",
					s->srv_msg, cmd, uri);
	return SIM_OK;
}

static int s_check_cmd(s_sess_t *s, xmlNodePtr el, s_ids_t *ids)
{
	const char *name = (const char *)el->name;
	const char *const *model = NULL;
	int rc;

	if (sim_sml_is(el, "Status"))
		return sim_fail("server message %d: <Status> after the commands (Statuses come first)",
				s->srv_msg);
	if (sim_sml_is(el, "Final"))
		return sim_fail("server message %d: <Final/> is not the last element of SyncBody", s->srv_msg);
	if (!sim_sml_is_command(name))
		return sim_fail("server message %d: unknown element <%s> in SyncBody", s->srv_msg, name);
	if (strcmp(name, "Results") == 0)
		return sim_fail("server message %d: the server sent <Results>", s->srv_msg);
	if ((rc = s_check_cmdid(s, el, ids)) != SIM_OK)
		return rc;
	if (!strcmp(name, "Add") || !strcmp(name, "Replace") || !strcmp(name, "Copy"))
		model = m_addrep;
	else if (!strcmp(name, "Delete"))
		model = m_delete;
	else if (!strcmp(name, "Get"))
		model = m_get;
	else if (!strcmp(name, "Exec"))
		model = m_exec;
	else if (!strcmp(name, "Alert"))
		model = m_alert;
	else if (!strcmp(name, "Atomic") || !strcmp(name, "Sequence"))
		model = m_container;
	if (model == NULL) /* Put, Map, Search, Sync: answered 406, not checked further */
		return SIM_OK;
	if ((rc = s_check_model(s, el, model)) != SIM_OK)
		return rc;
	if ((rc = s_check_meta(s, sim_sml_child(el, "Meta"))) != SIM_OK)
		return rc;
	if (model == m_container) {
		for (xmlNodePtr c = sim_sml_first(el); c; c = sim_sml_nextel(c))
			if (sim_sml_is_command((const char *)c->name) &&
			    (rc = s_check_cmd(s, c, ids)) != SIM_OK)
				return rc;
		return SIM_OK;
	}
	if (model == m_alert) {
		char *data = sim_sml_text(el, "Data");
		int ok = data && *data;
		free(data);
		if (!ok)
			return sim_fail("server message %d: Alert CmdID without Data (alert code)", s->srv_msg);
	}
	for (xmlNodePtr it = sim_sml_child(el, "Item"); it; it = sim_sml_nextel(it)) {
		if (!sim_sml_is(it, "Item"))
			continue;
		if ((rc = s_check_model(s, it, m_item)) != SIM_OK ||
		    (rc = s_check_meta(s, sim_sml_child(it, "Meta"))) != SIM_OK)
			return rc;
		if (model == m_alert)
			continue;
		char *uri = sim_sml_text(sim_sml_child(it, "Target"), "LocURI");
		rc = s_check_locuri(s, name, uri);
		free(uri);
		if (rc != SIM_OK)
			return rc;
	}
	return SIM_OK;
}

static int s_atoi(const char *text, long *out)
{
	char *end = NULL;
	if (text == NULL || *text == '\0')
		return -1;
	long v = strtol(text, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* Checks one of our commands' Status. */
static int s_check_status(s_sess_t *s, xmlNodePtr st, const s_sent_t *want)
{
	char *msgref = sim_sml_text(st, "MsgRef"), *cmdref = sim_sml_text(st, "CmdRef");
	char *cmd = sim_sml_text(st, "Cmd"), *data = sim_sml_text(st, "Data");
	long mr = 0, cr = -1, code = 0;
	int rc = SIM_OK;
	if (msgref && (s_atoi(msgref, &mr) != 0 || mr != s->msg_id))
		rc = sim_fail("server message %d: Status for our %s (CmdID %d) has MsgRef %s, want %d",
			      s->srv_msg, want->cmd, want->cmdid, msgref, s->msg_id);
	else if (s_atoi(cmdref, &cr) != 0 || cr != want->cmdid || !cmd || strcmp(cmd, want->cmd) != 0)
		rc = sim_fail("server message %d: expected the Status for our %s CmdID %d (in our order), got "
			      "one for CmdRef %s Cmd %s", s->srv_msg, want->cmd, want->cmdid,
			      cmdref ? cmdref : "(none)", cmd ? cmd : "(none)");
	else if (s_atoi(data, &code) != 0)
		rc = sim_fail("server message %d: Status for our %s CmdID %d has Data \"%s\", not a code",
			      s->srv_msg, want->cmd, want->cmdid, data ? data : "");
	else if (want->expect == 213 && code != 213)
		rc = sim_fail("server message %d: our %s CmdID %d carried a chunk with <MoreData/>; the "
			      "server answered %ld, not 213", s->srv_msg, want->cmd, want->cmdid, code);
	else if (want->expect != 213 && code != 200 && code != 202)
		rc = sim_fail("server message %d: the server answered %ld to our %s CmdID %d (want 200)",
			      s->srv_msg, code, want->cmd, want->cmdid);
	free(msgref);
	free(cmdref);
	free(cmd);
	free(data);
	return rc;
}

/* Statuses a server may leave out: the ones for complete Results. */
static int s_optional(const s_sent_t *x)
{
	return strcmp(x->cmd, "Results") == 0 && x->expect != 213;
}

typedef struct {
	xmlNodePtr *cmds; /* top-level commands, in order */
	size_t ncmds;
	int final;
} s_rx_t;

/* Every check on the server's message; fills rx. */
static int s_check_msg(s_sess_t *s, xmlDocPtr doc, s_rx_t *rx)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), hdr, body, el;
	s_ids_t ids = {0};
	char *t = NULL;
	long v;
	int rc = SIM_ECHECK;
	int want_msg = s->srv_msg + 1;

	memset(rx, 0, sizeof *rx);
	if (!sim_sml_is(root, "SyncML"))
		return sim_fail("server message: the root element is <%s>, not <SyncML>", (const char *)root->name);
	if (!root->ns || !root->ns->href || strcmp((const char *)root->ns->href, SIM_NS_SYNCML) != 0)
		return sim_fail("server message: <SyncML> namespace is \"%s\", not \"" SIM_NS_SYNCML "\"",
				root->ns && root->ns->href ? (const char *)root->ns->href : "");
	static const char *const m_root[] = {"SyncHdr", "SyncBody", NULL};
	const char *why = sim_sml_order(root, m_root);
	if (why)
		return sim_fail("server message: %s", why);
	hdr = sim_sml_child(root, "SyncHdr");
	body = sim_sml_child(root, "SyncBody");
	s->srv_msg = want_msg; /* for the messages below; corrected if MsgID differs */
	if ((why = sim_sml_order(hdr, m_synchdr)))
		return sim_fail("server message %d: %s", want_msg, why);

	t = sim_sml_text(hdr, "VerDTD");
	if (strcmp(t, "1.2") != 0) {
		sim_fail("server message %d: VerDTD \"%s\", want 1.2", want_msg, t);
		goto done;
	}
	free(t);
	t = sim_sml_text(hdr, "VerProto");
	if (strcmp(t, "DM/1.2") != 0) {
		sim_fail("server message %d: VerProto \"%s\", want DM/1.2", want_msg, t);
		goto done;
	}
	free(t);
	t = sim_sml_text(hdr, "SessionID");
	if (strcmp(t, s->sid) != 0) {
		sim_fail("server message %d: SessionID \"%s\", ours is \"%s\" (echo it verbatim)", want_msg, t,
			 s->sid);
		goto done;
	}
	free(t);
	t = sim_sml_text(hdr, "MsgID");
	if (s_atoi(t, &v) != 0 || v != want_msg) {
		sim_fail("server message: MsgID \"%s\", want %d (1, 2, 3... in the session)", t, want_msg);
		goto done;
	}
	free(t);
	t = sim_sml_text(sim_sml_child(hdr, "Target"), "LocURI");
	if (t == NULL || strcmp(t, s->device_id) != 0) {
		sim_fail("server message %d: SyncHdr Target/LocURI \"%s\", want our DeviceID %s", want_msg,
			 t ? t : "", s->device_id);
		goto done;
	}
	free(t);
	t = sim_sml_text(sim_sml_child(hdr, "Source"), "LocURI");
	if (t == NULL || *t == '\0') {
		sim_fail("server message %d: SyncHdr Source/LocURI missing", want_msg);
		goto done;
	}
	free(t);
	t = NULL;
	xmlNodePtr meta = sim_sml_child(hdr, "Meta");
	if (s_check_meta(s, meta) != SIM_OK)
		goto done;
	t = sim_sml_text(meta, "MaxMsgSize");
	if (t) {
		if (s_atoi(t, &v) != 0 || v < 256) {
			sim_fail("server message %d: MaxMsgSize \"%s\"", want_msg, t);
			goto done;
		}
		s->srv_max = v;
	}
	free(t);
	t = sim_sml_text(hdr, "RespURI");
	if (t) {
		if (!sim_url_is_https(t)) {
			sim_fail("server message %d: RespURI \"%s\" is not an https URL", want_msg, t);
			goto done;
		}
		free(s->post_url);
		s->post_url = t;
		t = NULL;
	}

	/* SyncBody: SyncHdr Status, our commands' Statuses in order, commands, Final. */
	el = sim_sml_first(body);
	if (!sim_sml_is(el, "Status")) {
		sim_fail("server message %d: the first SyncBody element is <%s>, not the SyncHdr Status",
			 want_msg, el ? (const char *)el->name : "(nothing)");
		goto done;
	}
	if (s_check_model(s, el, m_status) != SIM_OK || s_check_cmdid(s, el, &ids) != SIM_OK)
		goto done;
	{
		char *mr = sim_sml_text(el, "MsgRef"), *cr = sim_sml_text(el, "CmdRef");
		char *cmd = sim_sml_text(el, "Cmd"), *data = sim_sml_text(el, "Data");
		long lmr = -1, lcr = -1, code = 0;
		int bad = s_atoi(cr, &lcr) != 0 || lcr != 0 || !cmd || strcmp(cmd, "SyncHdr") != 0;
		int badref = mr && (s_atoi(mr, &lmr) != 0 || lmr != s->msg_id);
		int badcode = s_atoi(data, &code) != 0;
		if (bad)
			sim_fail("server message %d: first Status has CmdRef %s Cmd %s, want CmdRef 0 Cmd SyncHdr",
				 want_msg, cr ? cr : "(none)", cmd ? cmd : "(none)");
		else if (badref)
			sim_fail("server message %d: SyncHdr Status MsgRef %s, want our MsgID %d", want_msg, mr,
				 s->msg_id);
		else if (badcode)
			sim_fail("server message %d: SyncHdr Status Data \"%s\"", want_msg, data ? data : "");
		free(mr);
		free(cr);
		free(cmd);
		free(data);
		if (bad || badref || badcode)
			goto done;
		if (code != 200 && code != 212) {
			s->refused = code;
			fprintf(stderr, "refused: %ld (SyncHdr Status of server message %d)\n", code, want_msg);
			rc = SIM_MREFUSED;
			goto done;
		}
	}
	/* A Status for each of our commands, in our order. OMA-DM 1.2 section 2.1: "Status MUST
	 * NOT be sent in response to Results" while the checklist (and Fleet) acknowledge them: a
	 * Status for a complete Results is optional, 213 for a chunk is required. */
	el = sim_sml_nextel(el);
	size_t i = 0;
	for (; el && sim_sml_is(el, "Status"); el = sim_sml_nextel(el), i++) {
		if (s_check_model(s, el, m_status) != SIM_OK || s_check_cmdid(s, el, &ids) != SIM_OK)
			goto done;
		char *ref = sim_sml_text(el, "CmdRef");
		long lcr = -1;
		if (s_atoi(ref, &lcr) != 0)
			lcr = -1;
		free(ref);
		while (i < s->nsent && s_optional(&s->sent[i]) && s->sent[i].cmdid != lcr)
			i++;
		if (i >= s->nsent) {
			char *cr = sim_sml_text(el, "CmdRef"), *cmd = sim_sml_text(el, "Cmd");
			sim_fail("server message %d: extra Status for CmdRef %s Cmd %s (we sent %zu command%s)",
				 want_msg, cr ? cr : "", cmd ? cmd : "", s->nsent, s->nsent == 1 ? "" : "s");
			free(cr);
			free(cmd);
			goto done;
		}
		if (s_check_status(s, el, &s->sent[i]) != SIM_OK)
			goto done;
	}
	while (i < s->nsent && s_optional(&s->sent[i]))
		i++;
	if (i < s->nsent) {
		sim_fail("server message %d: no Status for our %s CmdID %d (a Status for each of our "
			 "commands, in our order, right after the SyncHdr Status)", want_msg,
			 s->sent[i].cmd, s->sent[i].cmdid);
		goto done;
	}
	for (; el; el = sim_sml_nextel(el)) {
		if (sim_sml_is(el, "Final")) {
			if (sim_sml_nextel(el)) {
				sim_fail("server message %d: <%s> after <Final/>", want_msg,
					 (const char *)sim_sml_nextel(el)->name);
				goto done;
			}
			rx->final = 1;
			break;
		}
		if (s_check_cmd(s, el, &ids) != SIM_OK)
			goto done;
		xmlNodePtr *c = realloc(rx->cmds, (rx->ncmds + 1) * sizeof *c);
		if (c == NULL)
			goto done;
		rx->cmds = c;
		rx->cmds[rx->ncmds++] = el;
	}
	for (xmlNodePtr n = body->children; n; n = n->next)
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && !xmlIsBlankNode(n)) {
			sim_fail("server message %d: text directly in SyncBody", want_msg);
			goto done;
		}

	/* Final unless the server continues; never while our package is incomplete. */
	if (!rx->final && !s->pending_more && rx->ncmds == 0) {
		sim_fail("server message %d has no <Final/> and no commands: nothing continues the "
			 "package (end a session with Statuses and <Final/>)", want_msg);
		goto done;
	}
	if (!rx->final && s->pending_more && rx->ncmds == 0) {
		sim_fail("server message %d: our message %d had no <Final/> (more to come), the answer "
			 "must carry Alert 1222", want_msg, s->msg_id);
		goto done;
	}
	if (rx->final && s->pending_more) {
		sim_fail("server message %d carries <Final/> while our package is incomplete (our message "
			 "%d had no <Final/>): answer with Alert 1222 and no <Final/>", want_msg, s->msg_id);
		goto done;
	}
	rc = SIM_OK;
done:
	free(t);
	s_ids_free(&ids);
	if (rc != SIM_OK) {
		free(rx->cmds);
		rx->cmds = NULL;
		rx->ncmds = 0;
	}
	return rc;
}

/* ---- applying the server's commands ------------------------------------------------ */

typedef struct {
	char *target;  /* as the server wrote it */
	char *format;
	char *data;
	int status;
	int unenroll;  /* no Status goes out for it */
} s_ilog_t;

typedef struct {
	char *cmd;
	char *cmdid;
	int status;
	int noresp;
	int container;
	int alert;
	const char *in;    /* "Atomic" / "Sequence" / NULL */
	s_ilog_t *items;
	size_t nitems;
	s_out_t *results;  /* Results for a Get, or NULL */
} s_done_t;

typedef struct {
	s_done_t *v;
	size_t n, cap;
} s_dlist_t;

static void s_dlist_free(s_dlist_t *l)
{
	for (size_t i = 0; i < l->n; i++) {
		s_done_t *d = &l->v[i];
		free(d->cmd);
		free(d->cmdid);
		for (size_t j = 0; j < d->nitems; j++) {
			free(d->items[j].target);
			free(d->items[j].format);
			free(d->items[j].data);
		}
		free(d->items);
		if (d->results) {
			s_out_free(d->results);
			free(d->results);
		}
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static size_t s_dpush(s_dlist_t *l, xmlNodePtr el, const char *in)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		s_done_t *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return (size_t)-1;
		l->v = v;
		l->cap = cap;
	}
	s_done_t *d = &l->v[l->n];
	memset(d, 0, sizeof *d);
	d->cmd = strdup((const char *)el->name);
	d->cmdid = sim_sml_text(el, "CmdID");
	d->noresp = sim_sml_child(el, "NoResp") != NULL;
	d->in = in;
	if (d->cmd == NULL || d->cmdid == NULL) {
		free(d->cmd);
		free(d->cmdid);
		return (size_t)-1;
	}
	return l->n++;
}

static int s_2xx(int st)
{
	return st >= 200 && st < 300;
}

/* Executed successfully (what an Atomic rollback turns into 216). */
static int s_applied(int st)
{
	return s_2xx(st) && st != 213 && st != 214 && st != 215 && st != 216;
}

static char *s_meta_text(xmlNodePtr meta, const char *name)
{
	return meta ? sim_sml_text(meta, name) : NULL;
}

/* Get/Add/Replace/Delete/Exec: every Item in turn; the command's status is the first
 * failing item's, else 200. */
static int s_leaf(s_sess_t *s, xmlNodePtr el, s_done_t *d, int in_atomic)
{
	const char *name = (const char *)el->name;
	char *cfmt = s_meta_text(sim_sml_child(el, "Meta"), "Format");
	int get = !strcmp(name, "Get"), add = !strcmp(name, "Add"), rep = !strcmp(name, "Replace");
	int del = !strcmp(name, "Delete"), exec = !strcmp(name, "Exec");
	d->status = 200;
	for (xmlNodePtr it = sim_sml_child(el, "Item"); it; it = sim_sml_nextel(it)) {
		if (!sim_sml_is(it, "Item"))
			continue;
		s_ilog_t *v = realloc(d->items, (d->nitems + 1) * sizeof *v);
		if (v == NULL)
			break;
		d->items = v;
		s_ilog_t *il = &d->items[d->nitems++];
		memset(il, 0, sizeof *il);
		il->target = sim_sml_text(sim_sml_child(it, "Target"), "LocURI");
		il->format = s_meta_text(sim_sml_child(it, "Meta"), "Format");
		if (il->format == NULL && cfmt)
			il->format = strdup(cfmt);
		xmlNodePtr dn = sim_sml_child(it, "Data");
		il->data = dn ? sim_sml_raw(dn) : NULL;
		const char *target = il->target ? il->target : "";
		int st;
		if (sim_sml_child(it, "MoreData")) {
			fprintf(stderr, "mdm-sim: %s %s: server-sent large objects (MoreData) are not "
					"simulated, answering 406\n", name, target);
			st = 406;
		} else if (get) {
			sim_tree_val_t val;
			st = in_atomic ? 500 : sim_tree_get(s->tree, target, &val);
			if (st == 200) {
				if (d->results == NULL) {
					d->results = calloc(1, sizeof *d->results);
					if (d->results) {
						d->results->kind = K_RESULTS;
						d->results->msgref = s->srv_msg;
						d->results->cmdref = strdup(d->cmdid);
					}
				}
				if (d->results == NULL || d->results->cmdref == NULL ||
				    s_item_add(d->results, target, val.format, NULL, val.data, val.len) != 0)
					st = 500;
				sim_tree_val_free(&val);
			}
		} else if (add || rep) {
			st = sim_tree_set(s->tree, add, target, il->format, il->data);
		} else if (del) {
			st = sim_tree_delete(s->tree, target);
		} else if (exec) {
			int un = 0;
			st = sim_tree_exec(s->tree, target, il->data, &un);
			if (un) {
				il->unenroll = 1;
				if (in_atomic)
					s->atomic_unenroll = 1;
				else
					s->unenroll = 1;
			}
		} else {
			st = 406;
		}
		il->status = st;
		if (s_2xx(d->status) && !s_2xx(st))
			d->status = st;
	}
	free(cfmt);
	return d->status;
}

/* Entries for commands that are not executed (status for the command and its children). */
static void s_skip(s_dlist_t *out, xmlNodePtr el, int status, const char *in)
{
	size_t i = s_dpush(out, el, in);
	if (i == (size_t)-1)
		return;
	out->v[i].status = status;
	const char *name = (const char *)el->name;
	if (!strcmp(name, "Atomic") || !strcmp(name, "Sequence")) {
		out->v[i].container = 1;
		for (xmlNodePtr c = sim_sml_first(el); c; c = sim_sml_nextel(c))
			if (sim_sml_is_command((const char *)c->name))
				s_skip(out, c, 215, name);
		return;
	}
	for (xmlNodePtr it = sim_sml_child(el, "Item"); it; it = sim_sml_nextel(it)) {
		s_ilog_t *v = realloc(out->v[i].items, (out->v[i].nitems + 1) * sizeof *v);
		if (v == NULL)
			return;
		out->v[i].items = v;
		s_ilog_t *il = &v[out->v[i].nitems++];
		memset(il, 0, sizeof *il);
		il->target = sim_sml_text(sim_sml_child(it, "Target"), "LocURI");
		il->status = status;
	}
}

static void s_exec(s_sess_t *s, xmlNodePtr el, int in_atomic, const char *in, s_dlist_t *out)
{
	const char *name = (const char *)el->name;
	size_t i;

	if (!strcmp(name, "Atomic") && in_atomic) { /* nested Atomic: not supported by Windows */
		s_skip(out, el, 500, in);
		return;
	}
	if (!strcmp(name, "Atomic")) {
		int has_get = 0;
		for (xmlNodePtr c = sim_sml_first(el); c; c = sim_sml_nextel(c))
			has_get |= sim_sml_is(c, "Get");
		if (has_get) { /* Get inside Atomic: the Atomic fails with 500, nothing runs */
			i = s_dpush(out, el, in);
			if (i == (size_t)-1)
				return;
			fprintf(stderr, "mdm-sim: server mistake: Get inside Atomic CmdID %s; answering 500\n",
				out->v[i].cmdid);
			out->v[i].container = 1;
			out->v[i].status = 500;
			for (xmlNodePtr c = sim_sml_first(el); c; c = sim_sml_nextel(c))
				if (sim_sml_is_command((const char *)c->name))
					s_skip(out, c, sim_sml_is(c, "Get") ? 500 : 215, "Atomic");
			return;
		}
		i = s_dpush(out, el, in);
		if (i == (size_t)-1)
			return;
		out->v[i].container = 1;
		void *snap = sim_tree_snapshot(s->tree);
		size_t start = out->n;
		s->atomic_unenroll = 0;
		for (xmlNodePtr c = sim_sml_first(el); c; c = sim_sml_nextel(c))
			if (sim_sml_is_command((const char *)c->name))
				s_exec(s, c, 1, "Atomic", out);
		int failed = snap == NULL;
		for (size_t j = start; j < out->n; j++)
			failed |= !s_2xx(out->v[j].status);
		if (failed) {
			sim_tree_restore(s->tree, snap);
			out->v[i].status = 507;
			for (size_t j = start; j < out->n; j++) {
				if (s_applied(out->v[j].status))
					out->v[j].status = 216;
				for (size_t k = 0; k < out->v[j].nitems; k++)
					if (s_applied(out->v[j].items[k].status))
						out->v[j].items[k].status = 216;
				if (out->v[j].results) { /* rolled back: no Results */
					s_out_free(out->v[j].results);
					free(out->v[j].results);
					out->v[j].results = NULL;
				}
			}
			s->atomic_unenroll = 0;
		} else {
			sim_tree_drop(snap);
			out->v[i].status = 200;
			if (s->atomic_unenroll)
				s->unenroll = 1;
			s->atomic_unenroll = 0;
		}
		return;
	}
	i = s_dpush(out, el, in);
	if (i == (size_t)-1)
		return;
	if (!strcmp(name, "Sequence")) {
		out->v[i].container = 1;
		out->v[i].status = 200;
		for (xmlNodePtr c = sim_sml_first(el); c && !s->unenroll && !s->aborted; c = sim_sml_nextel(c))
			if (sim_sml_is_command((const char *)c->name))
				s_exec(s, c, in_atomic, "Sequence", out);
		return;
	}
	if (!strcmp(name, "Alert")) {
		char *data = sim_sml_text(el, "Data");
		out->v[i].alert = 1;
		out->v[i].status = 406;
		if (data && strcmp(data, "1222") == 0) {
			out->v[i].status = 200;
		} else if (data && strcmp(data, "1223") == 0) {
			out->v[i].status = 200;
			s->aborted = 1;
		}
		free(data);
		return;
	}
	if (!strcmp(name, "Get") || !strcmp(name, "Add") || !strcmp(name, "Replace") ||
	    !strcmp(name, "Delete") || !strcmp(name, "Exec")) {
		s_leaf(s, el, &out->v[i], in_atomic);
		return;
	}
	out->v[i].status = 406; /* Copy, Put, Map, Search, Sync */
}

static void s_log(s_sess_t *s, const s_done_t *d, const s_ilog_t *il)
{
	json_t *j = json_pack("{s:s, s:i, s:s, s:s}", "session", s->sid, "msg", s->srv_msg, "cmdid",
			      d->cmdid, "cmd", d->cmd);
	if (j == NULL)
		return;
	if (il && il->target)
		json_object_set_new(j, "target", json_string(il->target));
	int st = il ? il->status : d->status;
	json_object_set_new(j, "status", il && il->unenroll ? json_null() : json_integer(st));
	if (il && il->format)
		json_object_set_new(j, "format", json_string(il->format));
	if (il && il->data) {
		size_t n = strlen(il->data);
		if (n > 1024)
			json_object_set_new(j, "data", json_stringn(il->data, 1024));
		else
			json_object_set_new(j, "data", json_string(il->data));
		if (json_object_get(j, "data") == NULL) /* not UTF-8 */
			json_object_set_new(j, "data_len", json_integer((json_int_t)n));
	}
	if (d->in)
		json_object_set_new(j, "in", json_string(d->in));
	if (d->noresp)
		json_object_set_new(j, "noresp", json_true());
	char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line && s->rx) {
		fprintf(s->rx, "%s\n", line);
		fflush(s->rx);
	}
	free(line);
	json_decref(j);
}

/* Applies the server's commands; queues Statuses (in order) and then Results. */
static int s_apply(s_sess_t *s, const s_rx_t *rx)
{
	s_dlist_t out = {0};
	for (size_t i = 0; i < rx->ncmds && !s->unenroll && !s->aborted; i++)
		s_exec(s, rx->cmds[i], 0, NULL, &out);

	int rc = SIM_OK;
	for (size_t i = 0; i < out.n; i++) {
		s_done_t *d = &out.v[i];
		if (d->alert)
			continue;
		if (d->nitems == 0) {
			s_log(s, d, NULL);
			if (!d->container)
				s->n_applied++;
		}
		for (size_t k = 0; k < d->nitems; k++) {
			s_log(s, d, &d->items[k]);
			s->n_applied++;
		}
	}
	if (s->unenroll || s->aborted)
		goto done; /* no Status for anything: the session ends here */
	for (size_t i = 0; i < out.n; i++) {
		s_done_t *d = &out.v[i];
		if (d->noresp)
			continue;
		s_out_t *e = s_push(s, K_STATUS);
		if (e == NULL)
			goto oom;
		e->msgref = s->srv_msg;
		e->cmdref = strdup(d->cmdid);
		e->cmd = strdup(d->cmd);
		e->code = d->status;
		if (e->cmdref == NULL || e->cmd == NULL)
			goto oom;
		for (size_t k = 0; k < d->nitems; k++) {
			if (d->items[k].target == NULL)
				continue;
			char **r = realloc(e->refs, (e->nrefs + 1) * sizeof *r);
			if (r == NULL)
				goto oom;
			e->refs = r;
			if ((e->refs[e->nrefs] = strdup(d->items[k].target)) == NULL)
				goto oom;
			e->nrefs++;
		}
	}
	for (size_t i = 0; i < out.n; i++) {
		s_done_t *d = &out.v[i];
		if (d->results == NULL || d->noresp)
			continue;
		s_out_t *e = s_push(s, K_RESULTS);
		if (e == NULL)
			goto oom;
		*e = *d->results;
		free(d->results);
		d->results = NULL;
	}
	goto done;
oom:
	fprintf(stderr, "mdm-sim: out of memory\n");
	rc = SIM_ECHECK;
done:
	s_dlist_free(&out);
	return rc;
}

/* ---- transport --------------------------------------------------------------------- */

static void s_dump(const char *dir, const char *xml, size_t len)
{
	if (!sim_verbose)
		return;
	fprintf(stderr, "%s ", dir);
	fwrite(xml, 1, len, stderr);
	fputc('\n', stderr);
}

/* POSTs our message, checks the HTTP layer, decodes and parses the answer. */
static int s_post(s_sess_t *s, const char *xml, size_t len, xmlDocPtr *out)
{
	const sim_manage_opts_t *o = s->o;
	const char *ct = o->wbxml ? SIM_CT_DM_WBXML : SIM_CT_DM_XML;
	unsigned char *wb = NULL;
	size_t wl = 0;
	char *dx = NULL;
	size_t dl = 0;
	sim_resp_t resp;
	int rc;

	*out = NULL;
	memset(&resp, 0, sizeof resp);
	snprintf(s->cv, sizeof s->cv, "MS-CV: %s.%d", s->cv_base, s->n_msgs);
	if (o->wbxml) {
		s_dump(">", xml, len);
		if (sim_wbxml_encode(xml, len, &wb, &wl) != 0)
			return SIM_ECHECK;
		long limit = s->srv_max < o->max_msg_size ? s->srv_max : o->max_msg_size;
		if ((long)wl > limit) {
			fprintf(stderr, "mdm-sim: our message %d is %zu bytes as WBXML, over the MaxMsgSize %ld\n",
				s->msg_id, wl, limit);
			free(wb);
			return SIM_ECHECK;
		}
	}
	s->n_msgs++;
	rc = sim_http_request(s->http, "POST", s->post_url, ct, wb ? (const char *)wb : xml,
			      wb ? wl : len, &resp);
	free(wb);
	if (rc != SIM_OK)
		goto done;
	rc = SIM_ECHECK;
	if (resp.status >= 400) {
		s->refused = resp.status;
		fprintf(stderr, "refused: %ld (HTTP, %s)\n", resp.status, resp.status_line);
		rc = SIM_MREFUSED;
		goto done;
	}
	if (resp.status != 200) {
		sim_fail("message %d: HTTP %ld (%s), want 200", s->msg_id, resp.status, resp.status_line);
		goto done;
	}
	if (!sim_resp_is(&resp, ct)) {
		sim_fail("message %d: Content-Type \"%s\", want %s (the encoding we sent)", s->msg_id,
			 resp.content_type ? resp.content_type : "(none)", ct);
		goto done;
	}
	if (resp.chunked) {
		sim_fail("message %d: chunked transfer encoding; send a Content-Length", s->msg_id);
		goto done;
	}
	if (resp.body.len == 0) {
		sim_fail("message %d: empty body (end a session with a Status-only message, not an "
			 "empty answer)", s->msg_id);
		goto done;
	}
	if ((long)resp.body.len > o->max_msg_size) {
		sim_fail("message %d: the answer is %zu bytes, over our MaxMsgSize %ld", s->msg_id,
			 resp.body.len, o->max_msg_size);
		goto done;
	}
	if (o->wbxml) {
		if (sim_wbxml_decode((const unsigned char *)resp.body.data, resp.body.len, &dx, &dl) != 0)
			goto done;
		s_dump("<", dx, dl);
		*out = sim_sml_parse(dx, dl, 1);
	} else {
		*out = sim_sml_parse(resp.body.data, resp.body.len, 0);
	}
	if (*out == NULL) {
		sim_fail("message %d: the answer is not well-formed XML (or has a DOCTYPE)", s->msg_id);
		goto done;
	}
	rc = SIM_OK;
done:
	free(dx);
	sim_resp_free(&resp);
	return rc;
}

/* ---- sessions ---------------------------------------------------------------------- */

static int s_new_session(s_sess_t *s)
{
	char hex[5];
	if (sim_rand_hex(hex, 2, 1) != 0)
		return -1;
	unsigned v = (unsigned)strtoul(hex, NULL, 16) & 0xFFF;
	snprintf(s->sid, sizeof s->sid, "%X", v ? v : 1); /* short hex, 1..FFF */
	s->msg_id = 0;
	s->srv_msg = 0;
	s->srv_max = SIM_DEFAULT_MAX;
	s->pending_more = 0;
	s->srv_open = 0;
	s->nsent = 0;
	s->n_msgs = 0;
	s->n_applied = 0;
	s->unenroll = s->atomic_unenroll = s->aborted = 0;
	s_queue_clear(s);
	char cvr[17];
	if (sim_rand_hex(cvr, 8, 0) != 0)
		return -1;
	snprintf(s->cv_base, sizeof s->cv_base, "%s.0", cvr);
	return 0;
}

/* Package 1: Alert 1201, Alert 1224 LoginStatus, [Alert 1226 unenrollment], Replace DevInfo
 * (fleet_w10_08 / fleet_w10_10). alert_only: just the Alert 1226. */
static int s_package1(s_sess_t *s, int unenroll, int alert_only)
{
	s_out_t *e;
	if (!alert_only) {
		if ((e = s_push(s, K_ALERT)) == NULL)
			return -1;
		e->code = 1201;
		if ((e = s_push(s, K_ALERT)) == NULL)
			return -1;
		e->code = 1224;
		if (s_item_add(e, NULL, NULL, "com.microsoft/MDM/LoginStatus", "user", 4) != 0)
			return -1;
	}
	if (unenroll) {
		if ((e = s_push(s, K_ALERT)) == NULL)
			return -1;
		e->code = 1226;
		if (s_item_add(e, NULL, "int", "com.microsoft:mdm.unenrollment.userrequest", "1", 1) != 0)
			return -1;
		e->items[0].type_first = 1;
	}
	if (!alert_only) {
		static const char *const devinfo[] = {"DevId", "Man", "Mod", "DmV", "Lang", NULL};
		if ((e = s_push(s, K_REPLACE)) == NULL)
			return -1;
		for (int i = 0; devinfo[i]; i++) {
			char path[64];
			snprintf(path, sizeof path, "./DevInfo/%s", devinfo[i]);
			const char *v = sim_tree_value(s->tree, path);
			if (v == NULL)
				v = "";
			if (s_item_add(e, path, NULL, NULL, v, strlen(v)) != 0)
				return -1;
		}
	}
	return 0;
}

enum { S_DONE, S_UNENROLL };

/* One session. kind 0: a normal session (package 1 as configured); 1: the unenrollment
 * message (user- or server-initiated). *next is S_UNENROLL when the server's Exec Unenroll
 * ended it. */
static int s_session(s_sess_t *s, int unenroll_msg, int *next)
{
	const sim_manage_opts_t *o = s->o;
	int rc = SIM_ECHECK;
	*next = S_DONE;
	if (s_new_session(s) != 0 || s_package1(s, unenroll_msg, unenroll_msg && o->alert_only) != 0) {
		fprintf(stderr, "mdm-sim: cannot start a session\n");
		return SIM_ECHECK;
	}
	sim_note("session %s: %s", s->sid, unenroll_msg ? "unenrollment (Alert 1226)" : "maintenance");
	for (;;) {
		mdm_buf_t b = MDM_BUF_INIT;
		xmlDocPtr doc = NULL;
		s_rx_t rx = {0};
		if (s->n_msgs >= o->max_rounds) {
			rc = sim_fail("session %s did not end after %d messages (--max-rounds)", s->sid,
				      o->max_rounds);
			return rc;
		}
		if (s_build(s, &b) != 0) {
			mdm_buf_free(&b);
			return SIM_ECHECK;
		}
		rc = s_post(s, b.data, b.len, &doc);
		mdm_buf_free(&b);
		if (rc != SIM_OK)
			return rc;
		rc = s_check_msg(s, doc, &rx);
		if (rc != SIM_OK) {
			xmlFreeDoc(doc);
			return rc;
		}
		if (!rx.final && !s->pending_more)
			s->srv_open = 1;
		else if (rx.final)
			s->srv_open = 0;
		if (unenroll_msg) {
			size_t n = rx.ncmds;
			free(rx.cmds);
			xmlFreeDoc(doc);
			if (n > 0)
				return sim_fail("server message %d: %zu command%s after our unenrollment alert "
						"(ack it, mark the device unenrolled, send nothing more)",
						s->srv_msg, n, n == 1 ? "" : "s");
			if (!rx.final)
				return sim_fail("server message %d: no <Final/> after our unenrollment alert",
						s->srv_msg);
			printf("session %s: %d messages, 0 commands applied\n", s->sid, s->n_msgs);
			fflush(stdout);
			return SIM_OK;
		}
		if (rx.ncmds == 0 && rx.final && s->nq == 0) {
			free(rx.cmds);
			xmlFreeDoc(doc);
			printf("session %s: %d messages, %d commands applied\n", s->sid, s->n_msgs,
			       s->n_applied);
			fflush(stdout);
			return SIM_OK;
		}
		rc = s_apply(s, &rx);
		free(rx.cmds);
		xmlFreeDoc(doc);
		if (sim_tree_save(s->tree) != 0)
			return SIM_ECHECK;
		if (rc != SIM_OK)
			return rc;
		if (s->aborted) {
			fprintf(stderr, "refused: 1223 (the server aborted session %s with Alert 1223)\n", s->sid);
			return SIM_MREFUSED;
		}
		if (s->unenroll) {
			printf("session %s: %d messages, %d commands applied\n", s->sid, s->n_msgs,
			       s->n_applied);
			fflush(stdout);
			sim_note("Exec Unenroll: session %s ends without Status; the unenrollment alert follows",
				 s->sid);
			*next = S_UNENROLL;
			return SIM_OK;
		}
	}
}

/* enrollment.json "state": "unenrolled". */
static int s_mark_unenrolled(const char *dir, json_t *js, sim_tree_t *tree, const char *reason)
{
	json_object_set_new(js, "state", json_string("unenrolled"));
	json_object_set_new(js, "unenrolled_at", json_integer((json_int_t)time(NULL)));
	json_object_set_new(js, "unenroll_reason", json_string(reason));
	char *text = json_dumps(js, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	mdm_buf_t b = MDM_BUF_INIT;
	int rc = -1;
	if (text) {
		mdm_buf_printf(&b, "%s\n", text);
		if (!b.failed)
			rc = sim_write_file(dir, "enrollment.json", b.data, b.len, 0644);
	}
	mdm_buf_free(&b);
	free(text);
	sim_tree_mark_unenrolled(tree, reason);
	if (sim_tree_save(tree) != 0)
		rc = -1;
	return rc;
}

int sim_manage(const sim_manage_opts_t *o)
{
	json_t *js = NULL;
	json_error_t jerr;
	s_sess_t s;
	char path_json[4200], path_cert[4200], path_key[4200], path_rx[4200];
	int rc = SIM_ECHECK, next = S_DONE;

	memset(&s, 0, sizeof s);
	s.o = o;
	snprintf(path_json, sizeof path_json, "%s/enrollment.json", o->dir);
	snprintf(path_cert, sizeof path_cert, "%s/device.pem", o->dir);
	snprintf(path_key, sizeof path_key, "%s/device.key", o->dir);
	snprintf(path_rx, sizeof path_rx, "%s/received.jsonl", o->dir);
	js = json_load_file(path_json, 0, &jerr);
	if (js == NULL || !json_is_object(js)) {
		fprintf(stderr, "cannot read %s: %s\n", path_json, js ? "not an object" : jerr.text);
		goto done;
	}
	s.device_id = json_string_value(json_object_get(js, "device_id"));
	const char *provider_id = json_string_value(json_object_get(js, "provider_id"));
	const char *state = json_string_value(json_object_get(js, "state"));
	s.mgmt_url = o->url ? o->url : json_string_value(json_object_get(js, "mgmt_url"));
	if (s.device_id == NULL || *s.device_id == '\0') {
		fprintf(stderr, "%s: no device_id\n", path_json);
		goto done;
	}
	if (s.mgmt_url == NULL || *s.mgmt_url == '\0') {
		fprintf(stderr, "%s: no mgmt_url; pass --url\n", path_json);
		goto done;
	}
	if (state && strcmp(state, "unenrolled") == 0) /* lets tests see the server refuse it */
		fprintf(stderr, "mdm-sim: note: device %s is unenrolled (%s); connecting anyway\n",
			s.device_id, path_json);
	s.tree = sim_tree_open(o->dir, s.device_id, provider_id,
			       json_string_value(json_object_get(js, "hwdevid")),
			       json_string_value(json_object_get(js, "device_name")), o->big_node_bytes);
	if (s.tree == NULL)
		goto done;
	s.rx = fopen(path_rx, "a");
	if (s.rx == NULL) {
		perror(path_rx);
		goto done;
	}
	const char *q = strchr(s.mgmt_url, '?') ? "&" : "?";
	size_t ulen = strlen(s.mgmt_url) + 48;
	s.post_url = malloc(ulen);
	check_mem(s.post_url);
	snprintf(s.post_url, ulen, "%s%smode=Maintenance&Platform=WoA", s.mgmt_url, q);

	sim_tls_t tls = o->tls;
	tls.client_cert = path_cert;
	tls.client_key = path_key;
	s.http = sim_http_new(&tls, 0);
	check_mem(s.http);
	/* The DM client's headers (fleet_w10_01, message 8). */
	s.headers[0] = "Accept: " SIM_CT_DM_XML ", " SIM_CT_DM_WBXML ", application/octet-stream";
	s.headers[1] = "Accept-Charset: UTF-8";
	s.headers[2] = s.cv;
	s.headers[3] = NULL;
	sim_http_set_agent(s.http, SIM_DM_UA, s.headers, o->wbxml);

	rc = s_session(&s, o->unenroll, &next);
	if (o->unenroll) {
		/* Windows unenrolls once the alert is out, whatever the answer (best effort); only a
		 * transport failure leaves the enrollment in place so the alert can be retried. */
		if (rc != SIM_EHTTP) {
			if (s_mark_unenrolled(o->dir, js, s.tree, "user") != 0 && rc == SIM_OK)
				rc = SIM_ECHECK;
			printf("unenrolled %s\n", s.device_id);
		}
	} else if (rc == SIM_OK && next == S_UNENROLL) {
		/* Server-initiated: the session is over; a new one carries the 1226 alert (MsgID 1).
		 * Windows sends it best effort and ignores the answer: a server that already revoked
		 * the enrollment may refuse it (401/403/410). A 200 answer is still checked in full. */
		s.refused = 0;
		rc = s_session(&s, 1, &next);
		if (rc == SIM_MREFUSED && (s.refused == 401 || s.refused == 403 || s.refused == 410)) {
			fprintf(stderr, "mdm-sim: note: the unenrollment alert was refused (%ld): the server "
					"already dropped the enrollment\n", s.refused);
			rc = SIM_OK;
		}
		if (rc != SIM_EHTTP) {
			if (s_mark_unenrolled(o->dir, js, s.tree, "server") != 0 && rc == SIM_OK)
				rc = SIM_ECHECK;
			printf("unenrolled %s\n", s.device_id);
		}
	}
	fflush(stdout);
	goto done;
error:
	rc = SIM_ECHECK;
done:
	s_queue_clear(&s);
	free(s.q);
	free(s.sent);
	free(s.post_url);
	if (s.rx)
		fclose(s.rx);
	sim_http_destroy(&s.http);
	sim_tree_free(s.tree);
	json_decref(js);
	return rc;
}
