build-san/obj/services/registry/main.o: services/registry/main.c \
 libs/bus/mdm_service.h libs/core/mdm_config.h libs/core/mdm_err.h \
 libs/bus/mdm_worker.h libs/core/mdm_buf.h libs/core/mdm_err.h \
 libs/bus/mdm_msg.h services/registry/reg.h libs/store/mdm_store.h \
 libs/bus/mdm_worker.h
libs/bus/mdm_service.h:
libs/core/mdm_config.h:
libs/core/mdm_err.h:
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/core/mdm_err.h:
libs/bus/mdm_msg.h:
services/registry/reg.h:
libs/store/mdm_store.h:
libs/bus/mdm_worker.h:
