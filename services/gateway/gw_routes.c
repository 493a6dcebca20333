/* gw_routes.c -- the routing table: every URL the gateway serves, in one place. */
#include "gw_routes.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Windows 8.1 and Windows 10/11 get their own enrollment URLs (as in the WSO2 IoT Server
 * flow); both reach the pki service, which shapes the provisioning document per client.
 * The policy and enrollment services are also served on the mTLS listener, where
 * certificate renewal (ROBO) arrives with the device's current certificate. */
static const gw_route_t s_routes[] = {
	{"/EnrollmentServer/Discovery.svc", 0, GW_L_ENROLL | GW_L_MGMT, GW_M_GET | GW_M_POST,
	 "discovery", "discover", GW_BODY_SOAP, 0},
	{"/EnrollmentServer/PolicyEnrollmentWebservice.svc", 0, GW_L_ENROLL | GW_L_MGMT,
	 GW_M_POST, "pki", "xcep", GW_BODY_SOAP, 1},
	{"/EnrollmentServer/DeviceEnrollmentWebservice.svc", 0, GW_L_ENROLL | GW_L_MGMT,
	 GW_M_POST, "pki", "wstep.win81", GW_BODY_SOAP, 1},
	{"/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc", 0, GW_L_ENROLL | GW_L_MGMT,
	 GW_M_POST, "pki", "wstep", GW_BODY_SOAP, 1},
	{"/EnrollmentServer/Auth", 0, GW_L_ENROLL, GW_M_GET | GW_M_POST, "registry", "webauth",
	 GW_BODY_HTML, 0},
	{"/api/v1/", 1, GW_L_ENROLL, GW_M_GET | GW_M_POST | GW_M_PUT | GW_M_DELETE | GW_M_PATCH,
	 "registry", "api", GW_BODY_JSON, 0},
	{"/ManagementServer/MDM.svc", 0, GW_L_MGMT, GW_M_POST, "syncml", "manage",
	 GW_BODY_SYNCML, 0},
};

const gw_route_t *gw_route_find(unsigned listener, const char *path)
{
	for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
		const gw_route_t *r = &s_routes[i];
		if (!(r->listeners & listener))
			continue;
		int match = r->prefix ? strncasecmp(path, r->path, strlen(r->path)) == 0
				      : strcasecmp(path, r->path) == 0;
		if (match)
			return r;
	}
	return NULL;
}

unsigned gw_method_bit(const char *m)
{
	static const struct {
		const char *name;
		unsigned bit;
	} t[] = {{"GET", GW_M_GET},
		 {"POST", GW_M_POST},
		 {"PUT", GW_M_PUT},
		 {"DELETE", GW_M_DELETE},
		 {"PATCH", GW_M_PATCH}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(m, t[i].name))
			return t[i].bit;
	return 0;
}
