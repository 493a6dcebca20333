build-san/obj/services/syncml/main.o: services/syncml/main.c \
 libs/bus/mdm_service.h libs/core/mdm_config.h libs/core/mdm_err.h \
 libs/bus/mdm_worker.h libs/core/mdm_buf.h libs/core/mdm_err.h \
 libs/bus/mdm_msg.h
libs/bus/mdm_service.h:
libs/core/mdm_config.h:
libs/core/mdm_err.h:
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/core/mdm_err.h:
libs/bus/mdm_msg.h:
