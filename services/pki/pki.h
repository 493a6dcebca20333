/* pki.h -- the PKI service: MS-XCEP policy, MS-WSTEP issuing and ROBO renewal. */
#ifndef PKI_H
#define PKI_H

#include "mdm_ca.h"
#include "mdm_soap.h"
#include "mdm_store.h"
#include "mdm_userauth.h"
#include "mdm_worker.h"

typedef struct {
	char data_dir[512];
	char ca_cert[512];
	char ca_key[512];
	char ca_key_type[16];
	char redis_url[512];
	char public_url[512];
	char mgmt_url[512];
	long https_port;
	long mgmt_port;
	char auth_policies[128];
	char provider_id[64];
	char server_name[128];
	long cert_validity_days;
	long renew_period_days;
	long renew_retry_days;
	long min_key_bits;
	long token_ttl;
	long password_iter;
} pki_config_t;

typedef struct {
	pki_config_t *cfg;
	mdm_ca_t *ca;
	mdm_store_t *store;
	unsigned char token_key[32];
	int allow_onpremise, allow_federated;
	mdm_userauth_t *users;
} pki_t;

/* How a request proved who it is. */
typedef enum { PKI_AUTH_USER = 1, PKI_AUTH_PREENROLL, PKI_AUTH_FEDERATED, PKI_AUTH_CERT } pki_auth_kind_t;

typedef struct {
	pki_auth_kind_t kind;
	char upn[321];
	char spend_key[80];   /* pre-enrollment secret hash or token jti: spent at enrollment */
	char device_name[128]; /* from a pre-enrollment, if the administrator named the device */
	char device_id[129];   /* PKI_AUTH_CERT: the device the TLS certificate belongs to */
	char thumbprint[41];   /* PKI_AUTH_CERT: that certificate */
} pki_identity_t;

int pki_start(pki_config_t *cfg, pki_t **out);
void pki_stop(pki_t **self);

/* Checks the credential in the SOAP header (UsernameToken: user password or one-time
 * pre-enrollment secret; BinarySecurityToken: our federated login token) or, on the mTLS
 * listener, the device certificate. Nothing is spent here: the enrollment spends it.
 * 0, or -1 with MDM_E_AUTHENTICATION / MDM_E_UNAVAILABLE. */
int pki_authenticate(pki_t *self, const mdm_msg_t *req, const mdm_soap_req_t *soap,
		     pki_identity_t *id, mdm_err_t *err);
/* The device certificate the gateway saw on the mTLS listener, if it is ours and active. */
int pki_client_cert(pki_t *self, const mdm_msg_t *req, X509 **cert, pki_identity_t *id,
		    mdm_err_t *err);

int pki_xcep(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);
int pki_wstep(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);
int pki_wstep_win81(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

#endif
