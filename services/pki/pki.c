/* pki.c -- PKI service start/stop: config defaults, CA (created at first start), store. */
#include "pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mdm_log.h"
#include "mdm_token.h"

/* https://host[:port]/... -> "host" (without port), for the management URL default. */
static void s_host_of(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, ":/");
	if (*p == '[')
		n = strcspn(p, "]") + 1;
	snprintf(out, cap, "%.*s", (int)n, p);
}

int pki_start(pki_config_t *cfg, pki_t **out)
{
	mdm_err_t err = {0};
	pki_t *self = calloc(1, sizeof *self);
	check_mem(self);
	self->cfg = cfg;
	if (!cfg->public_url[0])
		snprintf(cfg->public_url, sizeof cfg->public_url, "https://localhost:%ld",
			 cfg->https_port);
	size_t n = strlen(cfg->public_url);
	while (n && cfg->public_url[n - 1] == '/')
		cfg->public_url[--n] = '\0';
	if (!cfg->mgmt_url[0]) {
		char host[256];
		s_host_of(cfg->public_url, host, sizeof host);
		snprintf(cfg->mgmt_url, sizeof cfg->mgmt_url, "https://%s:%ld", host, cfg->mgmt_port);
	}
	n = strlen(cfg->mgmt_url);
	while (n && cfg->mgmt_url[n - 1] == '/')
		cfg->mgmt_url[--n] = '\0';
	self->allow_onpremise = strcasestr(cfg->auth_policies, "OnPremise") != NULL;
	self->allow_federated = strcasestr(cfg->auth_policies, "Federated") != NULL;
	if (!cfg->ca_cert[0])
		snprintf(cfg->ca_cert, sizeof cfg->ca_cert, "%.480s/ca/ca.pem", cfg->data_dir);
	if (!cfg->ca_key[0])
		snprintf(cfg->ca_key, sizeof cfg->ca_key, "%.480s/ca/ca.key", cfg->data_dir);
	check(strcmp(cfg->ca_key_type, "rsa2048") == 0 || strcmp(cfg->ca_key_type, "p256") == 0,
	      "MDM_CA_KEY_TYPE must be rsa2048 or p256");
	char dir[600];
	snprintf(dir, sizeof dir, "%s/ca", cfg->data_dir);
	mkdir(cfg->data_dir, 0700);
	mkdir(dir, 0700);
	self->ca = mdm_ca_load_or_create(cfg->ca_cert, cfg->ca_key, cfg->ca_key_type,
					 "MDM Device CA", &err);
	check(self->ca, "CA: %s", err.text);
	char keyfile[600];
	snprintf(keyfile, sizeof keyfile, "%s/token.key", cfg->data_dir);
	check(mdm_secret_load_or_create(keyfile, self->token_key, &err) == 0, "token key: %s",
	      err.text);
	self->store = mdm_store_new(cfg->redis_url, &err);
	check(self->store, "MDM_REDIS_URL: %s", err.text);
	self->users = mdm_userauth_new(self->store, (unsigned)cfg->password_iter);
	check_mem(self->users);
	log_info("CA %s (%s); enrollment %s, management %s", mdm_ca_thumbprint(self->ca),
		 cfg->ca_key_type, cfg->public_url, cfg->mgmt_url);
	*out = self;
	return 0;
error:
	pki_stop(&self);
	return -1;
}

void pki_stop(pki_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	pki_t *self = *self_p;
	mdm_ca_destroy(&self->ca);
	mdm_userauth_destroy(&self->users);
	mdm_store_destroy(&self->store);
	free(self);
	*self_p = NULL;
}
