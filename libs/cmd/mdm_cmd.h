/* mdm_cmd.h -- administrator commands: checks an API command body and turns it into the
 * SyncML command specs of docs/management.md (the JSON the codec renders). */
#ifndef MDM_CMD_H
#define MDM_CMD_H

#include <jansson.h>

#include "mdm_err.h"

/* Limits of docs/management.md, per SyncML command (a spec and everything nested in it). */
#define MDM_CMD_MAX_ITEMS 64       /* items of one Get/Add/Replace/Delete/Exec */
#define MDM_CMD_MAX_CMDS 64        /* commands inside one Atomic/Sequence, specs per API command */
#define MDM_CMD_MAX_DATA 65536     /* bytes of item data in one spec, nested ones included */
#define MDM_CMD_MAX_DEPTH 4        /* Atomic/Sequence nesting levels */
#define MDM_CMD_MAX_TARGET 1024    /* bytes of one target URI */
#define MDM_CMD_MAX_SETTINGS 64    /* settings of one policy command */

/* Checks an administrator's command body (the JSON object of POST .../commands) and builds
 * the command: returns a new object {"type": "<type>", "syncml": [spec, ...]} that the
 * caller owns. The body names its kind in "type" (lock, wipe, reboot, inventory, policy,
 * poll, raw) plus that kind's fields; any other field, a wrong type, a value out of range
 * or a raw spec breaking the rules gives NULL with MDM_E_BAD_REQUEST and a message naming
 * the field (e.g. `settings[1].name may contain only ...`). provider_id is the DMClient
 * provider (MDM_PROVIDER_ID), used by "poll"; NULL or "" there gives MDM_E_INTERNAL.
 * The request is not modified; "unenroll" is not accepted here (see mdm_cmd_unenroll). */
json_t *mdm_cmd_build(json_t *request, const char *provider_id, mdm_err_t *err);

/* The server-initiated unenrollment: {"type": "unenroll", "syncml": [Exec
 * ./Vendor/MSFT/DMClient/Provider/<provider_id>/Unenroll, chr, data <provider_id>]}, with
 * the provider id percent-escaped in the target (a space becomes %20). Caller owns it; NULL
 * if provider_id is NULL, empty or longer than 128 bytes, or on out of memory. */
json_t *mdm_cmd_unenroll(const char *provider_id);

/* Checks one spec and everything nested in it against the rules of docs/management.md:
 * only the fields verb/items/cmds (items: target/format/type/data); items non-empty for
 * Get/Add/Replace/Delete/Exec and absent for Atomic/Sequence; cmds non-empty for those
 * two only; no Get and no Atomic anywhere inside an Atomic (inside_atomic: the spec itself
 * is inside one); targets start with "./" and hold no spaces or control characters; no
 * data on Get/Delete items; the limits above. 0, or -1 with MDM_E_BAD_REQUEST naming the
 * offending place (`cmds[0].items[2].target must start with "./"`). For the codec and the
 * session, which re-check what they read back from the store. */
int mdm_cmd_spec_valid(json_t *spec, int inside_atomic, mdm_err_t *err);

/* The same for a whole "syncml" array: 1 to MDM_CMD_MAX_CMDS specs, each valid. */
int mdm_cmd_specs_valid(json_t *specs, mdm_err_t *err);

#endif
