/* mdm_soap_reply.h -- SOAP answers on the bus: whole envelopes with the right media type. */
#ifndef MDM_SOAP_REPLY_H
#define MDM_SOAP_REPLY_H

#include "mdm_err.h"
#include "mdm_worker.h"

#define MDM_SOAP_CONTENT_TYPE "application/soap+xml; charset=utf-8"

/* 200 with a built envelope (taken: freed here). A NULL envelope (allocation failure)
 * becomes an InternalServiceFault. */
void mdm_reply_soap(mdm_reply_t *rep, char *envelope, size_t len, const char *relates_to);

/* A SOAP 1.2 fault for err (MS-MDE2 subcode from err->code, reason err->text). HTTP status:
 * 503 + Retry-After when a dependency is down, 413 for oversized bodies, otherwise 500 as
 * the SOAP 1.2 HTTP binding prescribes for receiver faults. relates_to may be NULL. */
void mdm_reply_soap_fault(mdm_reply_t *rep, const char *relates_to, const mdm_err_t *err);

#endif
