/* gw_routes.h -- which service and command owns each path, per listener. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

enum { GW_L_ENROLL = 1, GW_L_MGMT = 2 };
enum { GW_M_GET = 1, GW_M_POST = 2, GW_M_PUT = 4, GW_M_DELETE = 8, GW_M_PATCH = 16 };
enum { GW_BODY_SOAP = 1, GW_BODY_JSON = 2, GW_BODY_HTML = 3, GW_BODY_SYNCML = 4 };

typedef struct {
	const char *path;    /* compared case-insensitively; query string never included */
	int prefix;          /* 1: path is a prefix ("/api/v1/") */
	unsigned listeners;  /* GW_L_* mask */
	unsigned methods;    /* GW_M_* mask */
	const char *service;
	const char *command;
	int kind;            /* GW_BODY_*: how errors are phrased to this client */
	int cert_der;        /* 1: the service inspects the client certificate itself (PKI
			      * renewal, certificate auth): it gets the DER, not only the
			      * thumbprint every mTLS request carries (docs/bus.md) */
} gw_route_t;

/* Route for (listener, path), or NULL for 404. */
const gw_route_t *gw_route_find(unsigned listener, const char *path);
unsigned gw_method_bit(const char *method);

#endif
