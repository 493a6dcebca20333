/* sim.h -- shared types, constants and functions of the Windows device simulator (mdm-sim). */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mdm_buf.h"

/* Exit codes. Every flow function returns one of them, so main() can return it as is. */
enum {
	SIM_OK = 0,
	SIM_ECHECK = 1,  /* a check on the server's answer failed, or a local error */
	SIM_EFAULT = 2,  /* the server answered with a SOAP fault */
	SIM_EHTTP = 3,   /* transport/TLS error, or an HTTP status other than 200 without fault */
	SIM_EAUTH = 4,   /* federated login refused by the login page (HTTP 401/403) */
	SIM_EUSAGE = 64, /* bad command line */
};

/* Namespaces (elements are matched by namespace URI + local name, never by prefix). */
#define SIM_NS_S "http://www.w3.org/2003/05/soap-envelope"
#define SIM_NS_A "http://www.w3.org/2005/08/addressing"
#define SIM_NS_U "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define SIM_NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define SIM_NS_WST "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
#define SIM_NS_AC "http://schemas.xmlsoap.org/ws/2006/12/authorization"
#define SIM_NS_DISCO "http://schemas.microsoft.com/windows/management/2012/01/enrollment"
#define SIM_NS_XCEP "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"
#define SIM_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* WS-Addressing actions. */
#define SIM_ACT_DISCOVER SIM_NS_DISCO "/IDiscoveryService/Discover"
#define SIM_ACT_DISCOVER_RESP SIM_NS_DISCO "/IDiscoveryService/DiscoverResponse"
#define SIM_ACT_POLICIES SIM_NS_XCEP "/IPolicy/GetPolicies"
#define SIM_ACT_POLICIES_RESP SIM_NS_XCEP "/IPolicy/GetPoliciesResponse"
#define SIM_ACT_RST "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep"
#define SIM_ACT_RSTRC "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep"

/* Token and value types. */
#define SIM_ENC_BASE64 SIM_NS_WSSE "#base64binary"
#define SIM_VT_USER_TOKEN \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken"
#define SIM_VT_PROVDOC \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc"
#define SIM_TOKEN_TYPE \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken"
#define SIM_VT_PKCS10 "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"
#define SIM_VT_PKCS7 SIM_NS_WSSE "#PKCS7"
#define SIM_REQ_ISSUE "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
#define SIM_REQ_RENEW "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew"
#define SIM_PASSWORD_TEXT \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
#define SIM_APPRU "ms-app://windows.immersivecontrolpanel"
#define SIM_OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define SIM_OID_DEVICE_ID "1.3.6.1.4.1.311.66.1.0"

/* Set by --verbose: requests, responses and progress notes go to stderr. */
extern int sim_verbose;

/* Prints "check failed: <text>" to stderr; returns SIM_ECHECK. */
int sim_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "<text>" to stderr when --verbose is on. */
void sim_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- sim_http.c: libcurl wrapper --------------------------------------------------- */

typedef struct {
	const char *cacert;      /* PEM bundle trusted for the server certificate, or NULL */
	int insecure;            /* 1: no server certificate verification */
	long timeout;            /* seconds, per request */
	const char *client_cert; /* PEM certificate for TLS client auth (renewal), or NULL */
	const char *client_key;  /* PEM private key matching client_cert */
} sim_tls_t;

typedef struct sim_http sim_http_t;

typedef struct {
	long status;            /* 0 until a status line was read */
	char status_line[160];  /* e.g. "HTTP/1.1 200 OK", without CRLF */
	char *content_type;     /* owned, NULL when absent */
	int chunked;            /* 1 if Transfer-Encoding: chunked was used */
	mdm_buf_t headers;      /* the final response's header lines */
	mdm_buf_t body;         /* decoded body, NUL-terminated */
} sim_resp_t;

/* One HTTP client ("user agent") with its own connection cache; cookies=1 turns the cookie
 * engine on (the WAB browser keeps cookies; the enrollment client does not). Returns NULL on
 * failure. tls is copied; the strings it points to must outlive the client. */
sim_http_t *sim_http_new(const sim_tls_t *tls, int cookies);
void sim_http_destroy(sim_http_t **self);
/* Sends one request (no redirects followed) and fills resp (caller frees it with
 * sim_resp_free even on error). Returns SIM_OK when any HTTP response was read, SIM_EHTTP after
 * printing "http: METHOD URL: <reason>" on a transport or TLS error. ctype NULL: no body. */
int sim_http_request(sim_http_t *self, const char *method, const char *url, const char *ctype,
		     const char *body, size_t len, sim_resp_t *resp);
/* Makes the client look like another Windows component: user_agent replaces "ENROLLClient",
 * headers (NULL-terminated "Name: value" list, NULL: ENROLLClient's Cache-Control/Pragma)
 * replace the fixed request headers; binary_body 1 keeps --verbose from dumping the request and
 * response bodies (the caller prints decoded forms). The strings must outlive the client. */
void sim_http_set_agent(sim_http_t *self, const char *user_agent, const char *const *headers,
			int binary_body);
void sim_resp_free(sim_resp_t *resp);
/* Prints "http: METHOD URL: HTTP <status line>" and returns SIM_EHTTP. */
int sim_http_status_fail(const char *method, const char *url, const sim_resp_t *resp);
/* 1 when the response Content-Type's media type equals mime (case-insensitive). */
int sim_resp_is(const sim_resp_t *resp, const char *mime);

/* URL helpers (curl URL API). All return malloc'd strings the caller frees, NULL on error. */
char *sim_url_encode(const char *s);                      /* RFC 3986 unreserved kept */
char *sim_url_decode(const char *s);
char *sim_url_resolve(const char *base, const char *ref); /* ref relative to base */
char *sim_url_part(const char *url, int part);            /* part: a CURLUPart */
/* 1 if url is an absolute https URL with a host. */
int sim_url_is_https(const char *url);

/* ---- sim_soap.c: XML helpers, message builders, the SOAP exchange ------------------- */

/* Parses XML without network access and without DTDs (a document with a DTD is refused).
 * Returns NULL on error. */
xmlDocPtr sim_xml_parse(const char *data, size_t len);
/* First element child of parent (or next element sibling after `after`) with namespace ns
 * (NULL: any namespace) and local name; NULL if none. */
xmlNodePtr sim_xml_child(xmlNodePtr parent, const char *ns, const char *name);
xmlNodePtr sim_xml_next(xmlNodePtr after, const char *ns, const char *name);
/* Follows "a/b/c" from `from`, every step in namespace ns. */
xmlNodePtr sim_xml_path(xmlNodePtr from, const char *ns, const char *path);
/* Text content with surrounding whitespace trimmed; caller frees; NULL if node is NULL. */
char *sim_xml_text(xmlNodePtr node);
/* Attribute by local name, with or without prefix; caller frees; NULL if absent. */
char *sim_xml_attr(xmlNodePtr node, const char *name);
/* 1 if the element carries xsi:nil="true". */
int sim_xml_is_nil(xmlNodePtr node);

typedef struct {
	const char *name;
	const char *value;
} sim_ctx_item_t;

enum { SIM_CRED_NONE, SIM_CRED_PASSWORD, SIM_CRED_TOKEN, SIM_CRED_RENEW };

/* The wsse:Security header: PASSWORD = UsernameToken(username, password) as OnPremise
 * devices send it; TOKEN = BinarySecurityToken DeviceEnrollmentUserToken (token_b64);
 * RENEW = Timestamp + UsernameToken with an empty password (ROBO sample); NONE = no header. */
typedef struct {
	int kind;
	const char *username;
	const char *password;
	const char *token_b64;
} sim_cred_t;

/* Builders return a malloc'd NUL-terminated envelope (caller frees) or NULL on OOM. All
 * values are XML-escaped. */
char *sim_soap_discover(const char *msgid, const char *to, const char *email,
			const char *request_version, int win81, const char *auth_policy);
char *sim_soap_get_policies(const char *msgid, const char *to, const sim_cred_t *cred);
char *sim_soap_rst(const char *msgid, const char *to, const sim_cred_t *cred,
		   const char *request_type, const char *bst_value_type, const char *bst_b64,
		   const sim_ctx_item_t *items, size_t n_items);

/* POSTs a SOAP 1.2 envelope and checks the answer's transport and WS-Addressing parts:
 * a fault prints "fault: <subcode> <reason>" (SIM_EFAULT); a non-200 answer without fault is
 * SIM_EHTTP; a wrong Content-Type, chunked encoding, Action or RelatesTo is SIM_ECHECK.
 * On SIM_OK *out is the parsed response (caller frees with xmlFreeDoc). */
int sim_soap_call(sim_http_t *http, const char *url, const char *body, const char *msgid,
		  const char *want_action, xmlDocPtr *out);
/* The s:Body element of an envelope, or NULL. */
xmlNodePtr sim_soap_body(xmlDocPtr doc);
/* A fresh "urn:uuid:<lower-case GUID>" into out (>= 46 bytes). Returns 0 or -1. */
int sim_msgid(char *out, size_t size);

/* ---- sim_pki.c: keys, CSR, PKCS#7, files ------------------------------------------- */

/* Base64 without line breaks; caller frees; NULL on OOM. */
char *sim_b64_encode(const unsigned char *data, size_t len);
/* Decodes base64, skipping whitespace; caller frees; NULL if the text is not base64. */
unsigned char *sim_b64_decode(const char *text, size_t *len);
/* Hex of data into out (2*len+1 bytes). */
void sim_hex(const unsigned char *data, size_t len, char *out, int upper);
/* 2*nbytes random hex chars into out (2*nbytes+1 bytes). Returns 0 or -1. */
int sim_rand_hex(char *out, size_t nbytes, int upper);
/* Random version-4 GUID "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" into out[37]. 0 or -1. */
int sim_guid(char *out, int upper);
/* SHA-1 (thumbprint) / SHA-256 as upper-case hex. */
int sim_thumbprint(X509 *cert, char out[41]);
void sim_sha256_hex(const void *data, size_t len, char out[65]);

/* Fresh RSA key; NULL on failure. */
EVP_PKEY *sim_key_new(int bits);
/* DER PKCS#10 built like Windows builds it: subject CN "<GUID>!<DeviceID>\0" as a
 * PrintableString, extension request 1.3.6.1.4.1.311.66.1.0 = DeviceID + NUL as raw bytes,
 * signed sha256WithRSA, or OIW sha1WithRSA (1.3.14.3.2.29) when sha256 is 0. Caller frees. */
unsigned char *sim_csr_new(EVP_PKEY *key, const char *device_id, int sha256, size_t *len);
/* DER PKCS#7 SignedData of data (PKCS7_BINARY, signer cert included). Caller frees. */
unsigned char *sim_pkcs7_sign(X509 *cert, EVP_PKEY *key, const unsigned char *data, size_t len,
			      size_t *out_len);
/* Upper-case hex serial / "YYYY-MM-DDTHH:MM:SSZ" notAfter / CN as UTF-8; caller frees. */
char *sim_cert_serial(X509 *cert);
char *sim_cert_not_after(X509 *cert);
char *sim_cert_cn(X509 *cert);
/* PEM text of a key (PKCS#8, unencrypted) / certificate; caller frees. */
char *sim_key_pem(EVP_PKEY *key);
char *sim_cert_pem(X509 *cert);
EVP_PKEY *sim_key_load(const char *path);
X509 *sim_cert_load(const char *path);
/* Creates dir (and parents) with mode 0700 if missing. 0 or -1 (message printed). */
int sim_mkdirs(const char *dir);
/* Writes dir/name atomically (temp file + rename) with the given mode. 0 or -1. */
int sim_write_file(const char *dir, const char *name, const void *data, size_t len, int mode);

/* ---- sim_provdoc.c: verification of the wap-provisioningdoc ----------------------- */

typedef struct {
	EVP_PKEY *csr_key;       /* the key the client certificate must carry */
	const char *device_id;   /* expected client certificate CN */
	const char *store;       /* "User" (EnrollmentType Full) or "System" (Device) */
	int renew;               /* renewal: Root, APPID/ADDR/APPAUTH and DMClient optional */
	X509 *known_root;        /* renewal: root saved at enrollment, used if the doc has none */
	const char *old_thumb;   /* renewal: the new certificate must differ from it */
	const char *provider_id; /* renewal: expected PROVIDER-ID, or NULL */
} sim_pd_expect_t;

typedef struct {
	X509 *cert;      /* issued client certificate (owned) */
	X509 *root;      /* root it chains to (owned) */
	char thumb[41];  /* client certificate SHA-1, upper-case hex */
	char *serial;    /* owned strings below, NULL when absent */
	char *not_after;
	char *mgmt_url;  /* APPLICATION ADDR */
	char *provider_id;
	char *renew_url; /* CertificateStore/My/WSTEP/Renew/ServerURL */
} sim_pd_result_t;

/* Checks the provisioning document against exp, printing every failed check. Returns the
 * number of failed checks (0 = good) and fills res with what it could find; the caller frees
 * res with sim_pd_result_free in every case. */
int sim_provdoc_verify(const char *xml, size_t len, const sim_pd_expect_t *exp,
		       sim_pd_result_t *res);
void sim_pd_result_free(sim_pd_result_t *res);

/* ---- sim_auth.c: federated login through the web authentication broker pages ------- */

/* Runs the WAB login at auth_url for email/password and returns the wresult token (caller
 * frees) in *token. Returns SIM_OK, SIM_EAUTH when the login is refused, SIM_EHTTP or
 * SIM_ECHECK. */
int sim_wab_login(const sim_tls_t *tls, const char *auth_url, const char *email,
		  const char *password, char **token);

/* ---- sim_enroll.c: the enroll and renew flows -------------------------------------- */

typedef struct {
	const char *url;             /* enrollment listener base URL */
	const char *auth;            /* onprem | preenroll | federated */
	const char *email;
	const char *password;        /* onprem, federated */
	const char *secret;          /* preenroll */
	const char *device_id;       /* NULL: random */
	const char *hwdevid;         /* NULL: derived from device_id */
	const char *device_name;     /* NULL: SIM-<first 8 of device_id> */
	const char *enrollment_type; /* Full | Device */
	const char *request_version; /* NULL: 4.0 (2.0 with win81) */
	const char *out_dir;         /* NULL: write nothing */
	int key_bits;                /* 0: from the policy */
	int win81;
	sim_tls_t tls;
} sim_enroll_opts_t;

typedef struct {
	const char *dir;
	const char *url; /* NULL: renew_url (else enroll_url) from enrollment.json */
	int key_bits;    /* 0: same size as the current key */
	sim_tls_t tls;
} sim_renew_opts_t;

int sim_enroll(const sim_enroll_opts_t *o);
int sim_renew(const sim_renew_opts_t *o);

/* ---- sim_syncml.c: SyncML 1.2 (OMA-DM 1.2) codec helpers ----------------------------- */

#define SIM_NS_SYNCML "SYNCML:SYNCML1.2"
#define SIM_NS_METINF "syncml:metinf"
#define SIM_CT_DM_XML "application/vnd.syncml.dm+xml"
#define SIM_CT_DM_WBXML "application/vnd.syncml.dm+wbxml"

/* XML -> WBXML 1.2 (SyncML 1.2, public id 0x1201, UTF-8, no string table) and back. Both
 * return 0 and a malloc'd buffer (the decoded XML NUL-terminated), or -1 after printing why. */
int sim_wbxml_encode(const char *xml, size_t len, unsigned char **out, size_t *out_len);
int sim_wbxml_decode(const unsigned char *wbxml, size_t len, char **out, size_t *out_len);
/* Parses a SyncML document; allow_doctype accepts the DOCTYPE that the WBXML decoder writes
 * (never loaded). NULL on error. */
xmlDocPtr sim_sml_parse(const char *data, size_t len, int allow_doctype);
/* Element children by local name, any namespace (SyncML is matched by local name; namespaces
 * are checked separately). */
xmlNodePtr sim_sml_child(xmlNodePtr parent, const char *name);
xmlNodePtr sim_sml_first(xmlNodePtr parent);   /* first element child */
xmlNodePtr sim_sml_nextel(xmlNodePtr node);    /* next element sibling */
int sim_sml_is(xmlNodePtr node, const char *name);
/* Trimmed text of child `name` (caller frees), NULL if absent. */
char *sim_sml_text(xmlNodePtr parent, const char *name);
/* Untrimmed text content of a node (Data keeps its whitespace); caller frees; NULL if absent. */
char *sim_sml_raw(xmlNodePtr node);
/* Checks the children of `node` against a DTD content model written as a list of
 * "Name" (exactly once), "Name?" (optional), "Name*" (any), "Name+" (at least one), in order;
 * "*" as the name stands for "any command" (Add|Alert|Atomic|Copy|Delete|Exec|Get|Map|Put|
 * Replace|Results|Search|Sequence|Sync). Returns NULL if the children conform, else a static
 * description of the first problem. */
const char *sim_sml_order(xmlNodePtr node, const char *const *model);
/* 1 if name is a SyncML command element name. */
int sim_sml_is_command(const char *name);
/* Appends <name>escaped</name>. */
void sim_sml_tag(mdm_buf_t *b, const char *name, const char *value);

/* ---- sim_tree.c: the simulated device's DM tree (DIR/tree.json) ----------------------- */

typedef struct sim_tree sim_tree_t;

/* Loads DIR/tree.json, creating it from enrollment.json (device_id, provider_id, hwdevid,
 * device_name) and provdoc.xml (DMClient Poll values) on first use. big_bytes >= 0 adds the
 * node ./Vendor/MSFT/Sim/Big with that many bytes of text (not persisted). NULL on error. */
sim_tree_t *sim_tree_open(const char *dir, const char *device_id, const char *provider_id,
			  const char *hwdevid, const char *device_name, long big_bytes);
int sim_tree_save(sim_tree_t *t);   /* 0 or -1 (message printed) */
void sim_tree_free(sim_tree_t *t);
/* A value of a read-only node (e.g. "./DevInfo/Man"); NULL if absent. */
const char *sim_tree_value(sim_tree_t *t, const char *path);

typedef struct {
	char *format; /* chr, int, bool, node, ... (owned) */
	char *data;   /* owned, NUL-terminated */
	size_t len;
} sim_tree_val_t;
void sim_tree_val_free(sim_tree_val_t *v);

/* The operations return a SyncML status code (200, 404, 405, 415, ...). locuri is the target
 * as the server wrote it (./Device/... == ./..., %-escapes decoded). */
int sim_tree_get(sim_tree_t *t, const char *locuri, sim_tree_val_t *out);
int sim_tree_set(sim_tree_t *t, int add, const char *locuri, const char *format, const char *data);
int sim_tree_delete(sim_tree_t *t, const char *locuri);
/* *unenroll is set to 1 when the node is DMClient's Unenroll (status 200 then). */
int sim_tree_exec(sim_tree_t *t, const char *locuri, const char *data, int *unenroll);
/* Atomic: snapshot before, restore on failure (frees the snapshot), or drop it. */
void *sim_tree_snapshot(sim_tree_t *t);
void sim_tree_restore(sim_tree_t *t, void *snap);
void sim_tree_drop(void *snap);
void sim_tree_mark_unenrolled(sim_tree_t *t, const char *reason);

/* ---- sim_manage.c: OMA-DM management sessions ------------------------------------------ */

typedef struct {
	const char *dir;
	const char *url;      /* NULL: mgmt_url from enrollment.json */
	sim_tls_t tls;        /* client_cert/client_key are set from dir */
	int wbxml;
	long max_msg_size;    /* our MaxMsgSize */
	int unenroll;         /* user-initiated unenrollment */
	int alert_only;       /* unenrollment message carries only the Alert 1226 */
	long big_node_bytes;  /* -1: no ./Vendor/MSFT/Sim/Big */
	int max_rounds;       /* messages per session */
} sim_manage_opts_t;

/* Exit codes of manage: 0 ok, SIM_ECHECK, SIM_MREFUSED (HTTP 4xx/5xx or SyncHdr status not
 * 200/212, or Alert 1223), SIM_EHTTP (transport/TLS). */
enum { SIM_MREFUSED = 2 };
int sim_manage(const sim_manage_opts_t *o);

#endif
