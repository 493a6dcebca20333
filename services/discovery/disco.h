/* disco.h -- the discovery service (MS-MDE2 Discover, MS-MDE for Windows 8.1). */
#ifndef DISCO_H
#define DISCO_H

#include "mdm_worker.h"

typedef struct {
	char public_url[512];    /* base of every URL handed out, no trailing slash */
	long https_port;
	char auth_policies[128]; /* preference order, e.g. "OnPremise,Federated" */
} disco_config_t;

/* Fills in derived settings (public URL default) and checks them. 0 or -1 (logged). */
int disco_config_finish(disco_config_t *cfg);
/* GET: 200 empty (the client only probes); POST: DiscoverResponse or a SOAP fault. */
int disco_discover(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

/* Highest enrollment version we support that is not above `requested` ("" or below 3.0:
 * a Windows 8.1 / MS-MDE client, answered without EnrollmentVersion -> returns NULL).
 * Returns -1 in *bad when `requested` is not a decimal number. */
const char *disco_enrollment_version(const char *requested, int *bad);

#endif
