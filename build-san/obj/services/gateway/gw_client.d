build-san/obj/services/gateway/gw_client.o: services/gateway/gw_client.c \
 services/gateway/gw_client.h libs/bus/mdm_msg.h \
 services/gateway/gw_broker.h libs/core/mdm_log.h
services/gateway/gw_client.h:
libs/bus/mdm_msg.h:
services/gateway/gw_broker.h:
libs/core/mdm_log.h:
