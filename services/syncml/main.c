/* main.c -- the syncml service (OMA-DM management sessions). This issue only puts it on
 * the bus: sessions are built in the management issue; until then the management endpoint
 * answers 501 so a freshly enrolled device gets a clear "not yet" instead of a hang. */
#include "mdm_service.h"

static int s_manage(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	(void)ctx;
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_INTERNAL, "management sessions are not implemented yet");
	mdm_reply_error(rep, &err);
	rep->status = 501;
	(void)req;
	return 0;
}

static const mdm_command_t s_commands[] = {
	{"manage", s_manage},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	mdm_service_t svc = {"syncml", s_commands, NULL, 0, NULL, NULL, NULL};
	return mdm_service_main(&svc, argc, argv);
}
