/* main.c -- the registry service process (admin API, federated login page). */
#include "mdm_service.h"
#include "reg.h"

static reg_config_t s_cfg;

static const mdm_cfg_entry_t s_settings[] = {
	MDM_CFG_S("MDM_DATA_DIR", "./var", reg_config_t, data_dir, "data directory"),
	MDM_CFG_S("MDM_REDIS_URL", "redis://127.0.0.1:6379", reg_config_t, redis_url, "Redis"),
	MDM_CFG_S("MDM_ADMIN_TOKEN", "", reg_config_t, admin_token,
		  "admin API bearer token (default: generated into $MDM_DATA_DIR/admin.token)"),
	MDM_CFG_S("MDM_AUTH_POLICIES", "OnPremise,Federated", reg_config_t, auth_policies,
		  "enabled authentication policies"),
	MDM_CFG_I("MDM_TOKEN_TTL", "900", 30, 86400, reg_config_t, token_ttl,
		  "federated login token lifetime (seconds)"),
	MDM_CFG_I("MDM_PREENROLL_TTL", "604800", 60, 7776000, reg_config_t, preenroll_ttl,
		  "default pre-enrollment secret lifetime (seconds)"),
	MDM_CFG_I("MDM_PASSWORD_ITER", "100000", 1000, 10000000, reg_config_t, password_iter,
		  "PBKDF2-SHA256 iterations for new passwords"),
	MDM_CFG_S("MDM_PROVIDER_ID", "OpenMDM", reg_config_t, provider_id,
		  "DMClient provider id written to devices (targets of poll and unenroll commands)"),
	MDM_CFG_I("MDM_COMMAND_TTL", "2592000", 60, 31536000, reg_config_t, command_ttl,
		  "seconds a queued command waits for its device before it expires"),
	MDM_CFG_I("MDM_SESSION_HOURS", "12", 1, 720, reg_config_t, session_hours,
		  "lifetime of a console session (POST /api/v1/login), hours"),
	MDM_CFG_I("MDM_AUDIT_MAXLEN", "1000000", 0, 1000000000, reg_config_t, audit_maxlen,
		  "audit events kept: older ones are dropped (about this many stay; 0: keep all)"),
};

static const mdm_command_t s_commands[] = {
	{"api", reg_api},
	{"webauth", reg_webauth},
	{NULL, NULL},
};

static int s_start(void *config, void **ctx)
{
	return reg_start(config, (reg_t **)ctx);
}

static void s_stop(void *ctx)
{
	reg_t *r = ctx;
	reg_stop(&r);
}

int main(int argc, char **argv)
{
	mdm_service_t svc = {"registry", s_commands, s_settings,
			     sizeof s_settings / sizeof s_settings[0], &s_cfg, s_start, s_stop};
	return mdm_service_main(&svc, argc, argv);
}
