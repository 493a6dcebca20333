/* reg_commands.c -- admin API for device management: queue commands for one device, many
 * devices or a group, read them back, unenroll a device, groups and their members. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_cmd.h"
#include "mdm_log.h"
#include "reg.h"

#define S_MAX_BULK 10000 /* devices in one bulk request or group addition */

/* A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Command
 * ids sort by creation time, so a device's history (scored by created_at in seconds)
 * stays in creation order within one second too. 0, or -1 if the generator failed. */
static int s_uuid7(char out[37])
{
	unsigned char b[16];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (mdm_random_bytes(b, sizeof b) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}

/* Stores one built command ({"type", "syncml"} from libs/cmd) for a device, with the
 * administrator's request as given, and returns the command as the API shows it (caller
 * owns). NULL with err: MDM_E_NOT_FOUND (no such device), MDM_E_CONFLICT (not enrolled),
 * MDM_E_UNAVAILABLE... Nothing is stored on failure (one Lua script in the store). */
static json_t *s_queue_one(reg_t *self, const char *device_id, json_t *request, json_t *built,
			   mdm_err_t *err)
{
	char id[37];
	json_t *out = NULL;
	char *req_text = json_dumps(request, JSON_COMPACT);
	char *sml_text = json_dumps(json_object_get(built, "syncml"), JSON_COMPACT);
	const char *type = json_string_value(json_object_get(built, "type"));
	if (req_text == NULL || sml_text == NULL || type == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto done;
	}
	if (s_uuid7(id) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "no randomness");
		goto done;
	}
	if (mdm_store_cmd_create(self->store, device_id, id, type, req_text, sml_text, time(NULL),
				 self->cfg->command_ttl, err) != 0)
		goto done;
	log_info("command %s (%s) queued for %s", id, type, device_id);
	mdm_err_t gerr = {0};
	out = mdm_store_cmd_get(self->store, id, &gerr);
	if (out == NULL) /* queued all the same: say so with what we know */
		out = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "device_id", device_id, "type", type,
				"state", "queued");
done:
	free(req_text);
	free(sml_text);
	return out;
}

/* Builds the command of a request body; NULL with a 400 (500 for a bad provider id) reply
 * set, naming what is wrong; `prefix` locates the command inside a bigger body. */
static json_t *s_build(reg_t *self, json_t *command, const char *prefix, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *built = mdm_cmd_build(command, self->cfg->provider_id, &err);
	if (built == NULL) {
		mdm_err_t out = {0};
		mdm_err_set(&out, err.code, "%s%s", prefix, err.text);
		mdm_reply_error(rep, &out);
	}
	return built;
}

int reg_cmd_device_create(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	json_t *body = reg_body(req, rep);
	if (body == NULL)
		return 0;
	json_t *built = s_build(self, body, "", rep);
	if (built) {
		mdm_err_t err = {0};
		json_t *cmd = s_queue_one(self, id, body, built, &err);
		if (cmd) {
			reg_audit_note(self, id,
				       json_pack("{s:O?,s:O?}", "type", json_object_get(cmd, "type"),
						 "command_id", json_object_get(cmd, "id")));
			mdm_reply_json(rep, 201, cmd);
		}
		else
			mdm_reply_error(rep, &err);
	}
	json_decref(built);
	json_decref(body);
	return 0;
}

int reg_cmd_device_history(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	long offset, limit;
	if (reg_paging(req, rep, &offset, &limit) != 0)
		return 0;
	mdm_err_t err = {0};
	json_t *page = mdm_store_cmd_history(self->store, id, offset, limit, &err);
	if (page)
		mdm_reply_json(rep, 200, page);
	else
		mdm_reply_error(rep, &err);
	return 0;
}

int reg_cmd_get(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *cmd = mdm_store_cmd_get(self->store, id, &err);
	if (cmd)
		mdm_reply_json(rep, 200, cmd);
	else
		mdm_reply_error(rep, &err);
	return 0;
}

/* 1 when a failure is the device's (unknown, not enrolled): listed, the rest goes on. A
 * storage failure would repeat for every device, so it stops the loop. */
static int s_device_error(const mdm_err_t *err)
{
	return err->code == MDM_E_NOT_FOUND || err->code == MDM_E_CONFLICT ||
	       err->code == MDM_E_BAD_REQUEST;
}

static json_t *s_error_entry(const char *device_id, const mdm_err_t *err)
{
	return json_pack("{s:s,s:s,s:s}", "device_id", device_id, "code", mdm_code_name(err->code),
			 "error", err->text);
}

/* A list of device ids from a body: 1 to S_MAX_BULK distinct non-empty strings of at most
 * 255 bytes. 0, or -1 with a 400 reply set naming the bad entry. */
static int s_device_ids(json_t *devices, mdm_reply_t *rep)
{
	char text[200];
	if (!json_is_array(devices) || json_array_size(devices) == 0 ||
	    json_array_size(devices) > S_MAX_BULK) {
		snprintf(text, sizeof text, "\"devices\" must be an array of 1 to %d device ids",
			 S_MAX_BULK);
		reg_error(rep, MDM_E_BAD_REQUEST, text);
		return -1;
	}
	json_t *seen = json_object();
	size_t i;
	json_t *d;
	int rc = 0;
	json_array_foreach(devices, i, d)
	{
		const char *id = json_string_value(d);
		if (id == NULL || id[0] == '\0' || json_string_length(d) > 255 ||
		    strlen(id) != json_string_length(d)) {
			snprintf(text, sizeof text, "devices[%zu] must be a device id (1 to 255 bytes)", i);
			rc = -1;
		} else if (json_object_get(seen, id)) {
			snprintf(text, sizeof text, "devices[%zu] repeats %.64s", i, id);
			rc = -1;
		} else {
			json_object_set_new(seen, id, json_true());
		}
		if (rc != 0) {
			reg_error(rep, MDM_E_BAD_REQUEST, text);
			break;
		}
	}
	json_decref(seen);
	return rc;
}

/* POST /api/v1/commands: {"devices": [ids]} or {"group": name}, and "command". The command
 * is checked once, before anything is queued; then one command per device. Devices that
 * cannot take it (unknown, not enrolled) are listed in "errors"; a storage failure stops
 * the loop and lists the devices not reached (or answers 503 if none was reached). */
int reg_cmd_bulk_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	json_t *body = reg_body(req, rep);
	if (body == NULL)
		return 0;
	json_t *devices = NULL, *command = NULL, *built = NULL, *members = NULL;
	json_t *cmds = NULL, *errors = NULL;
	const char *group = NULL;
	json_error_t jerr;
	if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s?o, s?s, s:o}", "devices", &devices,
			   "group", &group, "command", &command)) {
		reg_bad_fields(rep, &jerr);
		goto done;
	}
	if ((devices == NULL) == (group == NULL)) {
		reg_error(rep, MDM_E_BAD_REQUEST, "give either \"devices\" (a list of ids) or \"group\"");
		goto done;
	}
	if (devices && s_device_ids(devices, rep) != 0)
		goto done;
	if (group && !reg_group_name_ok(group)) {
		reg_error(rep, MDM_E_BAD_REQUEST,
			  "\"group\" must be 1 to 64 of A-Z a-z 0-9 space _ . -");
		goto done;
	}
	if ((built = s_build(self, command, "command: ", rep)) == NULL)
		goto done;
	if (group) {
		mdm_err_t err = {0};
		members = mdm_store_group_members(self->store, group, &err);
		if (members == NULL) {
			mdm_reply_error(rep, &err);
			goto done;
		}
		if (json_array_size(members) == 0) {
			reg_error(rep, MDM_E_NOT_FOUND, "no such group (or it has no devices)");
			goto done;
		}
		devices = members;
	}
	cmds = json_array();
	errors = json_array();
	mdm_err_t fatal = {0};
	size_t i;
	json_t *d;
	json_array_foreach(devices, i, d)
	{
		const char *id = json_string_value(d);
		mdm_err_t err = {0};
		json_t *c = fatal.code == MDM_OK ? s_queue_one(self, id, command, built, &err) : NULL;
		if (c) {
			json_array_append_new(cmds, c);
			continue;
		}
		if (fatal.code == MDM_OK && !s_device_error(&err))
			fatal = err;
		json_array_append_new(errors, s_error_entry(id, fatal.code ? &fatal : &err));
	}
	if (fatal.code != MDM_OK && json_array_size(cmds) == 0) {
		mdm_reply_error(rep, &fatal);
	} else {
		char target[160];
		if (group)
			snprintf(target, sizeof target, "group %s", group);
		else
			snprintf(target, sizeof target, "%zu device(s)", json_array_size(devices));
		reg_audit_note(self, target,
			       json_pack("{s:O?,s:I,s:I}", "type", json_object_get(built, "type"),
					 "queued", (json_int_t)json_array_size(cmds), "errors",
					 (json_int_t)json_array_size(errors)));
		mdm_reply_json(rep, 201, json_pack("{s:O,s:O}", "commands", cmds, "errors", errors));
	}
done:
	json_decref(cmds);
	json_decref(errors);
	json_decref(members);
	json_decref(built);
	json_decref(body);
	return 0;
}

/* DELETE /api/v1/devices/{id}[?force=1]. Without force the device is told to unenroll: an
 * "unenroll" command is queued (or the one already queued is returned) and the syncml
 * service unenrolls the record and revokes the certificate once the device acknowledges
 * it: 202. With force the record is unenrolled now, its certificate revoked and its queue
 * cancelled, whether or not the device ever hears of it: 200. */
int reg_device_delete(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	const char *q = mdm_req_header(req, "query");
	char *f = q ? reg_form_get(q, strlen(q), "force") : NULL;
	int force = f && (!strcmp(f, "1") || !strcmp(f, "true"));
	int bad = f && !force && strcmp(f, "0") != 0 && strcmp(f, "false") != 0;
	free(f);
	if (bad) {
		reg_error(rep, MDM_E_BAD_REQUEST, "force must be 1 or 0");
		return 0;
	}
	mdm_err_t err = {0};
	json_t *dev = mdm_store_device_get(self->store, id, &err);
	if (dev == NULL) {
		mdm_reply_error(rep, &err);
		return 0;
	}
	const char *state = json_string_value(json_object_get(dev, "state"));
	int enrolled = state && !strcmp(state, "enrolled");
	json_decref(dev);
	reg_audit_note(self, id, json_pack("{s:b}", "force", force));
	if (force) {
		if (mdm_store_device_unenroll(self->store, id, "admin", time(NULL), &err) != 0)
			mdm_reply_error(rep, &err);
		else
			mdm_reply_json(rep, 200, json_pack("{s:s,s:s}", "device_id", id, "state",
							   "unenrolled"));
		return 0;
	}
	if (!enrolled) {
		reg_error(rep, MDM_E_CONFLICT, "device is not enrolled (use ?force=1 to unenroll it anyway)");
		return 0;
	}
	/* one unenroll command at a time: a repeated DELETE returns the pending one */
	json_t *queue = mdm_store_queue(self->store, id, time(NULL), &err);
	if (queue == NULL) {
		mdm_reply_error(rep, &err);
		return 0;
	}
	size_t i;
	json_t *c, *pending = NULL;
	json_array_foreach(queue, i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		if (type && !strcmp(type, "unenroll")) {
			pending = mdm_store_cmd_get(self->store, json_string_value(json_object_get(c, "id")),
						    &err);
			break;
		}
	}
	json_decref(queue);
	if (pending == NULL && err.code == MDM_OK) {
		json_t *built = mdm_cmd_unenroll(self->cfg->provider_id);
		json_t *request = json_pack("{s:s}", "type", "unenroll");
		if (built == NULL || request == NULL)
			mdm_err_set(&err, MDM_E_INTERNAL, "no valid provider id configured (MDM_PROVIDER_ID)");
		else
			pending = s_queue_one(self, id, request, built, &err);
		json_decref(built);
		json_decref(request);
	}
	if (pending)
		mdm_reply_json(rep, 202, json_pack("{s:o}", "command", pending));
	else
		mdm_reply_error(rep, &err);
	return 0;
}

/* POST /api/v1/groups/{name}/devices {"devices": [ids]}: adds existing devices; unknown
 * ones are listed in "errors". */
int reg_group_add(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep)
{
	if (!reg_group_name_ok(name)) {
		reg_error(rep, MDM_E_BAD_REQUEST, "group names are 1 to 64 of A-Z a-z 0-9 space _ . -");
		return 0;
	}
	json_t *body = reg_body(req, rep);
	if (body == NULL)
		return 0;
	json_t *devices = NULL;
	json_error_t jerr;
	if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:o}", "devices", &devices)) {
		reg_bad_fields(rep, &jerr);
		json_decref(body);
		return 0;
	}
	if (s_device_ids(devices, rep) != 0) {
		json_decref(body);
		return 0;
	}
	json_t *added = json_array(), *errors = json_array();
	mdm_err_t fatal = {0};
	size_t i;
	json_t *d;
	json_array_foreach(devices, i, d)
	{
		const char *id = json_string_value(d);
		mdm_err_t err = {0};
		if (fatal.code == MDM_OK &&
		    mdm_store_group_add(self->store, name, id, &err) == 0) {
			json_array_append_new(added, json_string(id));
			continue;
		}
		if (fatal.code == MDM_OK && !s_device_error(&err))
			fatal = err;
		json_array_append_new(errors, s_error_entry(id, fatal.code ? &fatal : &err));
	}
	if (fatal.code != MDM_OK && json_array_size(added) == 0) {
		mdm_reply_error(rep, &fatal);
	} else {
		reg_audit_note(self, name, json_pack("{s:I,s:I}", "added", (json_int_t)json_array_size(added),
						     "errors", (json_int_t)json_array_size(errors)));
		mdm_reply_json(rep, 200, json_pack("{s:s,s:O,s:O}", "group", name, "added", added,
						   "errors", errors));
	}
	json_decref(added);
	json_decref(errors);
	json_decref(body);
	return 0;
}

int reg_group_list(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *members = reg_group_name_ok(name) ? mdm_store_group_members(self->store, name, &err)
						: NULL;
	if (members == NULL && err.code == MDM_OK)
		mdm_err_set(&err, MDM_E_NOT_FOUND, "no such group");
	if (members == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:s,s:o}", "group", name, "devices", members));
	return 0;
}

/* GET /groups: every group with its number of devices, by name. */
int reg_group_list_all(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *list = mdm_store_group_list(self->store, &err);
	if (list == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:o}", "groups", list));
	return 0;
}

/* A {"name": ...} body with a valid group name; NULL with a 400 reply otherwise. The
 * returned string lives as long as *body. */
static const char *s_name_body(const mdm_msg_t *req, mdm_reply_t *rep, json_t **body)
{
	const char *name = NULL;
	json_error_t jerr;
	*body = reg_body(req, rep);
	if (*body == NULL)
		return NULL;
	if (json_unpack_ex(*body, &jerr, JSON_STRICT, "{s:s}", "name", &name)) {
		reg_bad_fields(rep, &jerr);
		return NULL;
	}
	if (!reg_group_name_ok(name)) {
		reg_error(rep, MDM_E_BAD_REQUEST, "group names are 1 to 64 of A-Z a-z 0-9 space _ . -");
		return NULL;
	}
	return name;
}

int reg_group_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	json_t *body = NULL;
	const char *name = s_name_body(req, rep, &body);
	mdm_err_t err = {0};
	if (name == NULL)
		;
	else if (mdm_store_group_create(self->store, name, &err) != 0)
		mdm_reply_error(rep, &err);
	else {
		reg_audit_note(self, name, NULL);
		mdm_reply_json(rep, 201, json_pack("{s:s,s:i}", "name", name, "devices", 0));
	}
	json_decref(body);
	return 0;
}

/* PATCH /groups/{name} {"name": new}: the members go with the name. */
int reg_group_rename(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep)
{
	if (!reg_group_name_ok(name)) {
		reg_error(rep, MDM_E_NOT_FOUND, "no such group");
		return 0;
	}
	json_t *body = NULL;
	const char *to = s_name_body(req, rep, &body);
	mdm_err_t err = {0};
	if (to == NULL)
		;
	else if (mdm_store_group_rename(self->store, name, to, &err) != 0)
		mdm_reply_error(rep, &err);
	else {
		json_t *members = mdm_store_group_members(self->store, to, &err);
		reg_audit_note(self, name, json_pack("{s:s}", "name", to));
		mdm_reply_json(rep, 200, json_pack("{s:s,s:I}", "name", to, "devices",
						   (json_int_t)json_array_size(members)));
		json_decref(members);
	}
	json_decref(body);
	return 0;
}

int reg_group_delete(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	if (!reg_group_name_ok(name))
		reg_error(rep, MDM_E_NOT_FOUND, "no such group");
	else if (mdm_store_group_delete(self->store, name, &err) != 0)
		mdm_reply_error(rep, &err);
	else
		reg_no_content(rep);
	return 0;
}

/* DELETE /groups/{name}/devices/{id} */
int reg_group_remove(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	const char *id = self->call.arg2;
	if (!reg_group_name_ok(name))
		reg_error(rep, MDM_E_NOT_FOUND, "no such group");
	else if (mdm_store_group_remove(self->store, name, id, &err) != 0)
		mdm_reply_error(rep, &err);
	else {
		reg_audit_note(self, name, json_pack("{s:s}", "device", id));
		reg_no_content(rep);
	}
	return 0;
}
