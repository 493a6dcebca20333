build-san/obj/services/gateway/gw_broker.o: services/gateway/gw_broker.c \
 services/gateway/gw_broker.h libs/core/mdm_log.h libs/bus/mdm_msg.h
services/gateway/gw_broker.h:
libs/core/mdm_log.h:
libs/bus/mdm_msg.h:
