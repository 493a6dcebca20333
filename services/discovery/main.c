/* main.c -- the discovery service process. */
#include "disco.h"
#include "mdm_service.h"
#include "mdm_soap.h"

static disco_config_t s_cfg;

static const mdm_cfg_entry_t s_settings[] = {
	MDM_CFG_S("MDM_PUBLIC_URL", "", disco_config_t, public_url,
		  "base URL written into discovery answers (default https://localhost:<port>)"),
	MDM_CFG_I("MDM_HTTPS_PORT", "8443", 1, 65535, disco_config_t, https_port,
		  "enrollment HTTPS port (for the default public URL)"),
	MDM_CFG_S("MDM_AUTH_POLICIES", "OnPremise,Federated", disco_config_t, auth_policies,
		  "enabled authentication policies, in order of preference"),
};

static const mdm_command_t s_commands[] = {
	{"discover", disco_discover},
	{NULL, NULL},
};

static int s_start(void *config, void **ctx)
{
	mdm_soap_init();
	*ctx = config;
	return disco_config_finish(config);
}

static void s_stop(void *ctx)
{
	(void)ctx;
	mdm_soap_cleanup();
}

int main(int argc, char **argv)
{
	mdm_service_t svc = {"discovery", s_commands, s_settings,
			     sizeof s_settings / sizeof s_settings[0], &s_cfg, s_start, s_stop};
	return mdm_service_main(&svc, argc, argv);
}
