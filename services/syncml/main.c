/* main.c -- the syncml service process (OMA-DM management sessions). */
#include "mdm_service.h"
#include "mdm_soap.h"
#include "sml.h"

static sml_config_t s_cfg;

static const mdm_cfg_entry_t s_settings[] = {
	MDM_CFG_S("MDM_REDIS_URL", "redis://127.0.0.1:6379", sml_config_t, redis_url, "Redis"),
	MDM_CFG_S("MDM_PROVIDER_ID", "OpenMDM", sml_config_t, provider_id,
		  "DMClient provider id written to devices"),
	MDM_CFG_I("MDM_SESSION_TTL", "600", 30, 86400, sml_config_t, session_ttl,
		  "seconds a management session's state is kept"),
	MDM_CFG_I("MDM_DEFAULT_MAX_MSG", "65536", 1024, 16777216, sml_config_t, default_max_msg,
		  "MaxMsgSize assumed when a device announces none"),
	MDM_CFG_I("MDM_COMMAND_TTL", "2592000", 60, 31536000, sml_config_t, command_ttl,
		  "lifetime of commands the server queues by itself (inventory at first contact)"),
};

static const mdm_command_t s_commands[] = {
	{"manage", sml_manage},
	{NULL, NULL},
};

static int s_start(void *config, void **ctx)
{
	mdm_soap_init(); /* libxml2 */
	return sml_start(config, (sml_t **)ctx);
}

static void s_stop(void *ctx)
{
	sml_t *s = ctx;
	sml_stop(&s);
	mdm_soap_cleanup();
}

int main(int argc, char **argv)
{
	mdm_service_t svc = {"syncml", s_commands, s_settings,
			     sizeof s_settings / sizeof s_settings[0], &s_cfg, s_start, s_stop};
	return mdm_service_main(&svc, argc, argv);
}
