/* main.c -- the PKI service process (XCEP policy, WSTEP issuing and renewal). */
#include <string.h>

#include "mdm_log.h"
#include "mdm_service.h"
#include "mdm_soap.h"
#include "pki.h"

static pki_config_t s_cfg;

static const mdm_cfg_entry_t s_settings[] = {
	MDM_CFG_S("MDM_DATA_DIR", "./var", pki_config_t, data_dir, "data directory"),
	MDM_CFG_S("MDM_CA_CERT", "", pki_config_t, ca_cert,
		  "device CA certificate PEM (default $MDM_DATA_DIR/ca/ca.pem; created if missing)"),
	MDM_CFG_S("MDM_CA_KEY", "", pki_config_t, ca_key,
		  "device CA key PEM (default $MDM_DATA_DIR/ca/ca.key, mode 0600)"),
	MDM_CFG_S("MDM_CA_KEY_TYPE", "rsa2048", pki_config_t, ca_key_type,
		  "key type of a CA created at first start: rsa2048 or p256"),
	MDM_CFG_S("MDM_REDIS_URL", "redis://127.0.0.1:6379", pki_config_t, redis_url, "Redis"),
	MDM_CFG_S("MDM_PUBLIC_URL", "", pki_config_t, public_url,
		  "enrollment base URL (default https://localhost:<MDM_HTTPS_PORT>)"),
	MDM_CFG_S("MDM_MGMT_URL", "", pki_config_t, mgmt_url,
		  "management base URL (default: host of MDM_PUBLIC_URL, port MDM_MGMT_PORT)"),
	MDM_CFG_I("MDM_HTTPS_PORT", "8443", 1, 65535, pki_config_t, https_port, "enrollment port"),
	MDM_CFG_I("MDM_MGMT_PORT", "8444", 1, 65535, pki_config_t, mgmt_port, "management port"),
	MDM_CFG_S("MDM_AUTH_POLICIES", "OnPremise,Federated", pki_config_t, auth_policies,
		  "enabled authentication policies"),
	MDM_CFG_S("MDM_PROVIDER_ID", "OpenMDM", pki_config_t, provider_id,
		  "DMClient provider id written to devices"),
	MDM_CFG_S("MDM_SERVER_NAME", "Open MDM", pki_config_t, server_name,
		  "server name shown on devices"),
	MDM_CFG_I("MDM_CERT_VALIDITY_DAYS", "365", 1, 3650, pki_config_t, cert_validity_days,
		  "device certificate validity"),
	MDM_CFG_I("MDM_CERT_RENEW_DAYS", "60", 1, 3650, pki_config_t, renew_period_days,
		  "devices renew this many days before expiry"),
	MDM_CFG_I("MDM_CERT_RETRY_DAYS", "4", 1, 365, pki_config_t, renew_retry_days,
		  "renewal retry interval"),
	MDM_CFG_I("MDM_MIN_KEY_BITS", "2048", 1024, 16384, pki_config_t, min_key_bits,
		  "smallest RSA key accepted in a CSR"),
	MDM_CFG_I("MDM_TOKEN_TTL", "900", 30, 86400, pki_config_t, token_ttl,
		  "federated login token lifetime (seconds)"),
	MDM_CFG_I("MDM_PASSWORD_ITER", "100000", 1000, 10000000, pki_config_t, password_iter,
		  "PBKDF2 iterations (cost of the dummy check for unknown users)"),
};

static const mdm_command_t s_commands[] = {
	{"xcep", pki_xcep},
	{"wstep", pki_wstep},
	{"wstep.win81", pki_wstep_win81},
	{NULL, NULL},
};

static int s_start(void *config, void **ctx)
{
	mdm_soap_init();
	return pki_start(config, (pki_t **)ctx);
}

static void s_stop(void *ctx)
{
	pki_t *p = ctx;
	pki_stop(&p);
	mdm_soap_cleanup();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--init")) {
		/* make run: create the data directory's CA (and token key) before anything
		 * else starts, so the gateway can trust it for mTLS */
		mdm_log_init("pki", MDM_LOG_INFO);
		mdm_err_t err = {0};
		void *ctx = NULL;
		if (mdm_config_load(s_settings, sizeof s_settings / sizeof s_settings[0], &s_cfg,
				    &err)) {
			log_err("config: %s", err.text);
			return 2;
		}
		if (s_start(&s_cfg, &ctx) != 0)
			return 1;
		s_stop(ctx);
		return 0;
	}
	mdm_service_t svc = {"pki", s_commands, s_settings, sizeof s_settings / sizeof s_settings[0],
			     &s_cfg, s_start, s_stop};
	return mdm_service_main(&svc, argc, argv);
}
