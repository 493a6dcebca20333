build-san/obj/services/gateway/gw_routes.o: services/gateway/gw_routes.c \
 services/gateway/gw_routes.h
services/gateway/gw_routes.h:
